-- pgq_node.unregister_consumer(queue, consumer): forget a consumer of this node.
CREATE OR REPLACE FUNCTION pgq_node.unregister_consumer(
    IN i_queue_name text, IN i_consumer_name text,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    PERFORM 1 FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown queue: ' || i_queue_name;
        RETURN;
    END IF;
    DELETE FROM pgq_node.local_state WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
    ret_code := 200;
    ret_note := 'Consumer ' || i_consumer_name || ' unregistered from ' || i_queue_name;
END;
$$;
