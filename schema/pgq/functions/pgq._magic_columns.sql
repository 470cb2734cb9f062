-- pgq._magic_columns(table oid): internal; the table's columns named _pgq_ev_* (upstream's
-- deprecated way for a table to set its events' type, data and extra fields per row), in column
-- order joined by chr(1), '' when there are none. Any other _pgq_ev_ name is refused as upstream
-- refuses it.
CREATE OR REPLACE FUNCTION pgq._magic_columns(i_relid oid)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_cols text[];
    v_bad  text;
BEGIN
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO v_cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = i_relid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname::text LIKE '\_pgq\_ev\_%';
    SELECT c INTO v_bad FROM unnest(v_cols) c
     WHERE c NOT IN ('_pgq_ev_type', '_pgq_ev_data', '_pgq_ev_extra1', '_pgq_ev_extra2', '_pgq_ev_extra3', '_pgq_ev_extra4')
     LIMIT 1;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'Unknown magic column: %', v_bad;
    END IF;
    RETURN coalesce(array_to_string(v_cols, chr(1)), '');
END;
$$;
