-- pgq_node.set_consumer_error(queue, consumer, msg): record the worker's last error (NULL clears it).
CREATE OR REPLACE FUNCTION pgq_node.set_consumer_error(
    IN i_queue_name text, IN i_consumer_name text, IN i_error_msg text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    UPDATE pgq_node.local_state SET cur_error = i_error_msg
     WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
    IF FOUND THEN
        ret_code := 100;
        ret_note := 'Consumer ' || i_consumer_name || ' error = ' || coalesce(i_error_msg, 'NULL');
    ELSE
        ret_code := 101;
        ret_note := 'Consumer not known, ignoring: ' || i_queue_name || '/' || i_consumer_name;
    END IF;
END;
$$;
