-- pgq.get_batch_cursor(batch_id, cursor_name, quick_limit [, extra_where]): declare a cursor
-- over the batch's events (optionally filtered by a condition on the event columns) and return
-- its first quick_limit rows; the caller FETCHes the rest from the cursor in the same
-- transaction.
CREATE OR REPLACE FUNCTION pgq.get_batch_cursor(
    IN i_batch_id bigint, IN i_cursor_name text, IN i_quick_limit int4, IN i_extra_where text,
    OUT ev_id bigint, OUT ev_time timestamptz, OUT ev_txid bigint, OUT ev_retry int4,
    OUT ev_type text, OUT ev_data text,
    OUT ev_extra1 text, OUT ev_extra2 text, OUT ev_extra3 text, OUT ev_extra4 text)
RETURNS SETOF record
LANGUAGE plpgsql
AS $$
DECLARE
    v_sql   text;
BEGIN
    IF i_batch_id IS NULL OR i_cursor_name IS NULL OR i_quick_limit IS NULL THEN
        RETURN;
    END IF;
    v_sql := pgq.batch_event_sql(i_batch_id);
    IF i_extra_where IS NOT NULL THEN
        v_sql := 'SELECT * FROM (' || left(v_sql, -length(' ORDER BY 1')) || ') evs WHERE '
              || i_extra_where || ' ORDER BY 1';
    END IF;
    EXECUTE 'DECLARE ' || quote_ident(i_cursor_name) || ' NO SCROLL CURSOR FOR ' || v_sql;
    IF i_quick_limit > 0 THEN
        RETURN QUERY EXECUTE 'FETCH ' || i_quick_limit || ' FROM ' || quote_ident(i_cursor_name);
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.get_batch_cursor(
    IN i_batch_id bigint, IN i_cursor_name text, IN i_quick_limit int4,
    OUT ev_id bigint, OUT ev_time timestamptz, OUT ev_txid bigint, OUT ev_retry int4,
    OUT ev_type text, OUT ev_data text,
    OUT ev_extra1 text, OUT ev_extra2 text, OUT ev_extra3 text, OUT ev_extra4 text)
RETURNS SETOF record
LANGUAGE sql STRICT
AS $$ SELECT * FROM pgq.get_batch_cursor(i_batch_id, i_cursor_name, i_quick_limit, NULL) $$;
