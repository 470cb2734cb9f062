-- pgq_node.unregister_subscriber(queue, node): stop serving a subscriber node; its worker and
-- watermark consumers go, so the queue no longer keeps events for it.
CREATE OR REPLACE FUNCTION pgq_node.unregister_subscriber(
    IN i_queue_name text, IN i_remote_node_name text,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_worker text;
BEGIN
    SELECT s.worker_name INTO v_worker FROM pgq_node.subscriber_info s
     WHERE s.queue_name = i_queue_name AND s.subscriber_node = i_remote_node_name;
    IF NOT FOUND THEN
        ret_code := 304;
        ret_note := 'Subscriber not found';
        RETURN;
    END IF;
    DELETE FROM pgq_node.subscriber_info WHERE queue_name = i_queue_name AND subscriber_node = i_remote_node_name;
    PERFORM pgq.unregister_consumer(i_queue_name, '.' || i_remote_node_name || '.watermark');
    PERFORM pgq.unregister_consumer(i_queue_name, v_worker);
    ret_code := 200;
    ret_note := 'Subscriber unregistered: ' || i_remote_node_name;
END;
$$;
