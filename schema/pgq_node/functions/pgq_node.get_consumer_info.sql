-- pgq_node.get_consumer_info(queue): every consumer recorded on this node with its state.
CREATE OR REPLACE FUNCTION pgq_node.get_consumer_info(
    IN i_queue_name text,
    OUT consumer_name text, OUT provider_node text, OUT last_tick_id int8,
    OUT paused boolean, OUT uptodate boolean, OUT cur_error text)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT s.consumer_name, s.provider_node, s.last_tick_id, s.paused, s.uptodate, s.cur_error
      FROM pgq_node.local_state s WHERE s.queue_name = i_queue_name ORDER BY 1
$$;
