-- pgq_node.set_consumer_completed(queue, consumer, tick): the batch up to tick is applied here;
-- called in the transaction that applied it. Clears the last error.
CREATE OR REPLACE FUNCTION pgq_node.set_consumer_completed(
    IN i_queue_name text, IN i_consumer_name text, IN i_tick_id int8,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    UPDATE pgq_node.local_state SET last_tick_id = i_tick_id, cur_error = NULL
     WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
    IF FOUND THEN
        ret_code := 100;
        ret_note := 'Consumer ' || i_consumer_name || ' completed tick = ' || i_tick_id::text;
    ELSE
        ret_code := 404;
        ret_note := 'Consumer not known: ' || i_queue_name || '/' || i_consumer_name;
    END IF;
END;
$$;
