-- pgq_node.change_consumer_provider(queue, consumer, new_provider): make a consumer read from
-- another node; its worker picks the change up on its next round.
CREATE OR REPLACE FUNCTION pgq_node.change_consumer_provider(
    IN i_queue_name text, IN i_consumer_name text, IN i_new_provider text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgq_node.node_location WHERE queue_name = i_queue_name AND node_name = i_new_provider) THEN
        ret_code := 404;
        ret_note := 'New node not found: ' || i_new_provider;
        RETURN;
    END IF;
    UPDATE pgq_node.local_state SET provider_node = i_new_provider, uptodate = false
     WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown consumer: ' || i_queue_name || '/' || i_consumer_name;
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Consumer provider node set to : ' || i_new_provider;
END;
$$;
