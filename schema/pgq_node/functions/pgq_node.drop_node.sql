-- pgq_node.drop_node(queue, node): forget a node. Dropping the local node removes the queue
-- and all cascade state here; another node is unsubscribed and forgotten, unless it is this
-- node's provider.
CREATE OR REPLACE FUNCTION pgq_node.drop_node(
    IN i_queue_name text, IN i_node_name text,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_local     boolean;
    v_provider  boolean;
BEGIN
    SELECT n.node_name = i_node_name,
           coalesce((SELECT s.provider_node = i_node_name FROM pgq_node.local_state s
                      WHERE s.queue_name = i_queue_name AND s.consumer_name = n.worker_name), false)
      INTO v_local, v_provider
      FROM pgq_node.node_info n
     WHERE n.queue_name = i_queue_name;
    IF NOT FOUND THEN
        -- no node here: clean up whatever is left
        v_local := true;
        v_provider := false;
    END IF;

    IF v_local THEN
        DELETE FROM pgq_node.subscriber_info WHERE queue_name = i_queue_name;
        DELETE FROM pgq_node.local_state WHERE queue_name = i_queue_name;
        DELETE FROM pgq_node.node_info WHERE queue_name = i_queue_name AND node_name = i_node_name;
        PERFORM pgq.drop_queue(q.queue_name, true) FROM pgq.queue q WHERE q.queue_name = i_queue_name;
        DELETE FROM pgq_node.node_location WHERE queue_name = i_queue_name AND node_name <> i_node_name;
    ELSIF v_provider THEN
        ret_code := 405;
        ret_note := 'Cannot drop provider node: ' || i_node_name;
        RETURN;
    ELSE
        PERFORM pgq_node.unregister_subscriber(i_queue_name, i_node_name);
    END IF;

    PERFORM pgq_node.unregister_location(i_queue_name, i_node_name);
    ret_code := 200;
    ret_note := 'Node dropped: ' || i_node_name;
END;
$$;
