-- pgq._trigger_args(args): internal; the arguments of a PgQ capture trigger after the queue
-- name, sorted into their meaning (upstream's trigger argument syntax).
CREATE OR REPLACE FUNCTION pgq._trigger_args(
    IN i_args text[],
    OUT skip boolean, OUT deny boolean, OUT backup boolean,
    OUT ignore_cols text[], OUT pkey_cols text[],
    OUT when_expr text, OUT ev_type_expr text,
    OUT extra1_expr text, OUT extra2_expr text, OUT extra3_expr text, OUT extra4_expr text)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    a text;
BEGIN
    skip := false;
    deny := false;
    backup := false;
    FOREACH a IN ARRAY coalesce(i_args, '{}') LOOP
        IF a = 'SKIP' THEN
            skip := true;
        ELSIF a = 'deny' THEN
            deny := true;
        ELSIF a = 'backup' THEN
            backup := true;
        ELSIF a LIKE 'ignore=%' THEN
            ignore_cols := regexp_split_to_array(trim(substr(a, 8)), '\s*,\s*');
        ELSIF a LIKE 'pkey=%' THEN
            pkey_cols := regexp_split_to_array(trim(substr(a, 6)), '\s*,\s*');
        ELSIF a LIKE 'when=%' THEN
            when_expr := substr(a, 6);
        ELSIF a LIKE 'ev_type=%' THEN
            ev_type_expr := substr(a, 9);
        ELSIF a LIKE 'ev_extra1=%' THEN
            extra1_expr := substr(a, 11);
        ELSIF a LIKE 'ev_extra2=%' THEN
            extra2_expr := substr(a, 11);
        ELSIF a LIKE 'ev_extra3=%' THEN
            extra3_expr := substr(a, 11);
        ELSIF a LIKE 'ev_extra4=%' THEN
            extra4_expr := substr(a, 11);
        ELSE
            RAISE EXCEPTION 'unknown param to pgq trigger: %', a;
        END IF;
    END LOOP;
END;
$$;
