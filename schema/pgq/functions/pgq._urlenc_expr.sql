-- an earlier revision's helper, no longer used
DROP FUNCTION IF EXISTS pgq._urlenc_ascii_expr(text);

-- pgq._urlenc_expr(column reference, type): internal; the cheapest SQL expression that gives a
-- column's urlencoded text value, by type: integers, numerics and booleans never need encoding;
-- date/time values need a few characters replaced; any other value is checked against a pattern
-- (nothing to encode) before paying for a call of pgq._urlenc. The expressions stay small: a
-- statement's capture trigger initialises them once per statement, which for the single-row
-- statements of OLTP costs more than evaluating them. Identical output to pgq._urlenc of the
-- value's text form in every case.
CREATE OR REPLACE FUNCTION pgq._urlenc_expr(i_ref text, i_type oid)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_base  oid := (SELECT coalesce(nullif(typbasetype, 0), oid) FROM pg_catalog.pg_type WHERE oid = i_type);
    v_txt   text := pgq._text_expr(i_ref, i_type);
BEGIN
    IF v_base IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'oid'::regtype, 'numeric'::regtype) THEN
        RETURN v_txt;
    ELSIF v_base = 'bool'::regtype THEN
        RETURN format('CASE WHEN %s THEN ''t'' ELSE ''f'' END', i_ref);
    ELSIF v_base IN ('float4'::regtype, 'float8'::regtype) THEN
        RETURN format('replace(%s, ''+'', ''%%2b'')', v_txt);
    ELSIF v_base IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype, 'time'::regtype,
                     'timetz'::regtype, 'interval'::regtype) THEN
        -- whatever DateStyle and IntervalStyle say, these write digits, letters and only the
        -- characters replaced here (time zone abbreviations are letters, digits, + and -)
        RETURN format('replace(replace(replace(replace(replace(replace(%s, ''+'', ''%%2b''), '':'', ''%%3a''), '' '', ''+''),'
                      ' ''/'', ''%%2f''), '','', ''%%2c''), ''@'', ''%%40'')', v_txt);
    END IF;
    RETURN format('CASE WHEN %1$s ~ ''^[0-9A-Za-z_.-]*$'' THEN %1$s ELSE pgq._urlenc(%1$s) END', v_txt);
END;
$$;
