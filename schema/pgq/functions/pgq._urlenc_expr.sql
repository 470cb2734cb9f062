-- pgq._urlenc_expr(column reference, type): internal; the cheapest SQL expression that gives a
-- column's urlencoded text value, by type: integers, numerics and booleans never need encoding;
-- date/time values in ISO style need only '+', ':' and ' ' replaced; text is checked with one
-- regular expression before paying for the full encoder (the value is converted twice rather
-- than through a per-row subquery, which costs more). Identical output to pgq._urlenc of the
-- value's text form in every case.
CREATE OR REPLACE FUNCTION pgq._urlenc_expr(i_ref text, i_type oid)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE
        WHEN i_type IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'oid'::regtype, 'numeric'::regtype)
            THEN i_ref || '::text'
        WHEN i_type = 'bool'::regtype
            THEN format('CASE WHEN %s THEN ''t'' ELSE ''f'' END', i_ref)
        WHEN i_type IN ('float4'::regtype, 'float8'::regtype)
            THEN format('replace(%s::text, ''+'', ''%%2b'')', i_ref)
        WHEN i_type IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype, 'time'::regtype, 'timetz'::regtype)
            THEN format('CASE WHEN %1$s::text ~ ''^[0-9 :.+-]*$'' THEN replace(replace(replace(%1$s::text, ''+'', ''%%2b''), '':'', ''%%3a''), '' '', ''+'')'
                        ' ELSE pgq._urlenc(%1$s::text) END', i_ref)
        WHEN i_type IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype)
            THEN format('CASE WHEN %1$s::text ~ ''^[0-9A-Za-z_.-]*$'' THEN %1$s::text ELSE pgq._urlenc(%1$s::text) END', i_ref)
        ELSE format('pgq._urlenc(pgq._text(%s))', i_ref)
    END
$$;
