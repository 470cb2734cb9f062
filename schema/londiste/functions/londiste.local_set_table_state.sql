-- londiste.local_set_table_state(queue, table, snapshot, state): the copy state machine's
-- transitions (NULL → in-copy → catching-up → ok), with the copy snapshot while catching up.
CREATE OR REPLACE FUNCTION londiste.local_set_table_state(
    IN i_queue_name text, IN i_table_name text, IN i_snapshot text, IN i_merge_state text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_fq text := londiste.make_fqname(i_table_name);
BEGIN
    UPDATE londiste.table_info SET custom_snapshot = i_snapshot, merge_state = i_merge_state
     WHERE queue_name = i_queue_name AND table_name = v_fq AND local;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'No such table: ' || v_fq;
        RETURN;
    END IF;
    -- a table to copy again (resync): wake the node's worker
    IF i_merge_state IS NULL THEN
        PERFORM pg_notify('londiste_tables', i_queue_name);
    END IF;
    ret_code := 200;
    ret_note := 'Table ' || v_fq || ' state set to ' || coalesce(quote_literal(i_merge_state), 'NULL');
END;
$$;
