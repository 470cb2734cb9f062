-- pgq_node.register_location(queue, node, location, dead): add or update a member node.
-- A NULL location keeps the known one (used to tag a node dead). On the root the change is
-- also announced in the queue (pgq.location-info) so every node learns it.
CREATE OR REPLACE FUNCTION pgq_node.register_location(
    IN i_queue_name text, IN i_node_name text, IN i_node_location text, IN i_dead boolean,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_is_root boolean;
BEGIN
    SELECT node_type = 'root' INTO v_is_root FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;

    UPDATE pgq_node.node_location
       SET node_location = coalesce(i_node_location, node_location), dead = i_dead
     WHERE queue_name = i_queue_name AND node_name = i_node_name;
    IF NOT FOUND AND i_node_location IS NOT NULL THEN
        INSERT INTO pgq_node.node_location (queue_name, node_name, node_location, dead)
        VALUES (i_queue_name, i_node_name, i_node_location, i_dead);
    END IF;

    IF v_is_root THEN
        PERFORM pgq.insert_event(i_queue_name, 'pgq.location-info', i_node_name, i_queue_name,
                                 i_node_location, i_dead::text, NULL);
    END IF;
    ret_code := 200;
    ret_note := 'Location registered';
END;
$$;
