-- pgq_node.get_queue_locations(queue): every known member node with its location and dead flag.
CREATE OR REPLACE FUNCTION pgq_node.get_queue_locations(
    IN i_queue_name text,
    OUT node_name text, OUT node_location text, OUT dead boolean)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT l.node_name, l.node_location, l.dead FROM pgq_node.node_location l WHERE l.queue_name = i_queue_name
$$;
