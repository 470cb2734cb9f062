-- pgq_node.register_consumer(queue, consumer, provider_node, tick_id): record a consumer on this
-- node that reads the provider's queue, starting after tick_id. Registering again moves it.
CREATE OR REPLACE FUNCTION pgq_node.register_consumer(
    IN i_queue_name text, IN i_consumer_name text, IN i_provider_node text, IN i_custom_tick_id int8,
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
    UPDATE pgq_node.local_state SET provider_node = i_provider_node, last_tick_id = i_custom_tick_id
     WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
    IF FOUND THEN
        ret_code := 201;
        ret_note := 'Consumer already registered: ' || i_queue_name || '/' || i_consumer_name;
        RETURN;
    END IF;
    INSERT INTO pgq_node.local_state (queue_name, consumer_name, provider_node, last_tick_id)
    VALUES (i_queue_name, i_consumer_name, i_provider_node, i_custom_tick_id);
    ret_code := 200;
    ret_note := 'Consumer ' || i_consumer_name || ' registered on queue ' || i_queue_name;
END;
$$;
