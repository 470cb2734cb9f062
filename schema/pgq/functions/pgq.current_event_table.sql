-- pgq.current_event_table(queue): the event table receiving inserts right now, for bulk loads
-- (COPY) that bypass insert_event. Valid only until the end of the current transaction.
-- A queue with inserts disabled is writable only with session_replication_role = replica.
CREATE OR REPLACE FUNCTION pgq.current_event_table(x_queue_name text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_table     text;
    v_disabled  boolean;
BEGIN
    SELECT queue_data_pfx || '_' || queue_cur_table, queue_disable_insert
      INTO v_table, v_disabled
      FROM pgq.queue WHERE queue_name = x_queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Event queue not found';
    END IF;
    IF v_disabled AND current_setting('session_replication_role') <> 'replica' THEN
        RAISE EXCEPTION 'Writing to queue disabled';
    END IF;
    RETURN v_table;
END;
$$;
