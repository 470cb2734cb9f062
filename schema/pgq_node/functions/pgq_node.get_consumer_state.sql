-- pgq_node.get_consumer_state(queue, consumer): a consumer's position, provider and flags, as
-- its worker reads them at every round.
CREATE OR REPLACE FUNCTION pgq_node.get_consumer_state(
    IN i_queue_name text, IN i_consumer_name text,
    OUT ret_code int4, OUT ret_note text,
    OUT node_type text, OUT node_name text, OUT completed_tick bigint,
    OUT provider_node text, OUT provider_location text,
    OUT paused boolean, OUT uptodate boolean, OUT cur_error text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    SELECT n.node_type, n.node_name INTO node_type, node_name
      FROM pgq_node.node_info n WHERE n.queue_name = i_queue_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown queue: ' || i_queue_name;
        RETURN;
    END IF;
    SELECT s.last_tick_id, s.provider_node, s.paused, s.uptodate, s.cur_error
      INTO completed_tick, provider_node, paused, uptodate, cur_error
      FROM pgq_node.local_state s WHERE s.queue_name = i_queue_name AND s.consumer_name = i_consumer_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown consumer: ' || i_queue_name || '/' || i_consumer_name;
        RETURN;
    END IF;
    SELECT p.node_location INTO provider_location
      FROM pgq_node.node_location p WHERE p.queue_name = i_queue_name AND p.node_name = provider_node;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown provider node: ' || i_queue_name || '/' || provider_node;
        RETURN;
    END IF;
    ret_code := 100;
    ret_note := 'Ok';
END;
$$;
