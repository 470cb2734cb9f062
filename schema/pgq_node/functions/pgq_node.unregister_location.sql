-- pgq_node.unregister_location(queue, node): forget a member node (and its subscription here).
-- A node cannot forget itself or its own provider. Announced in the queue on the root.
CREATE OR REPLACE FUNCTION pgq_node.unregister_location(
    IN i_queue_name text, IN i_node_name text,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    me record;
BEGIN
    SELECT n.node_name, n.node_type, s.provider_node INTO me
      FROM pgq_node.node_info n
      LEFT JOIN pgq_node.local_state s ON s.queue_name = n.queue_name AND s.consumer_name = n.worker_name
     WHERE n.queue_name = i_queue_name;
    IF FOUND THEN
        IF me.node_name = i_node_name THEN
            ret_code := 403;
            ret_note := 'Cannot drop node''s own location';
            RETURN;
        END IF;
        IF me.provider_node = i_node_name THEN
            ret_code := 403;
            ret_note := 'Cannot drop location of node''s parent';
            RETURN;
        END IF;
    END IF;

    PERFORM pgq_node.unregister_subscriber(i_queue_name, i_node_name);
    DELETE FROM pgq_node.node_location WHERE queue_name = i_queue_name AND node_name = i_node_name;
    IF FOUND THEN
        ret_code := 200;
        ret_note := 'Ok';
    ELSE
        ret_code := 301;
        ret_note := 'Location not found: ' || i_queue_name || '/' || i_node_name;
    END IF;

    IF me.node_type = 'root' THEN
        PERFORM pgq.insert_event(i_queue_name, 'pgq.unregister-location', i_node_name, i_queue_name, NULL, NULL, NULL);
    END IF;
END;
$$;
