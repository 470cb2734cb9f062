-- pgq_node.get_worker_state(queue): everything the node's main worker needs to know about
-- its node: type, position, provider, pause/error flags, watermarks, top of the local queue.
CREATE OR REPLACE FUNCTION pgq_node.get_worker_state(
    IN i_queue_name text,
    OUT ret_code int4, OUT ret_note text,
    OUT node_type text, OUT node_name text, OUT completed_tick bigint,
    OUT provider_node text, OUT provider_location text,
    OUT paused boolean, OUT uptodate boolean, OUT cur_error text,
    OUT worker_name text, OUT global_watermark bigint, OUT local_watermark bigint,
    OUT local_queue_top bigint, OUT combined_queue text, OUT combined_type text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    SELECT n.node_type, n.node_name, n.worker_name, n.combined_queue
      INTO node_type, node_name, worker_name, combined_queue
      FROM pgq_node.node_info n WHERE n.queue_name = i_queue_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown queue: ' || i_queue_name;
        RETURN;
    END IF;
    -- the worker is a consumer like any other: its own state, provider and location
    SELECT c.ret_code, c.ret_note, c.completed_tick, c.provider_node, c.provider_location, c.paused, c.uptodate, c.cur_error
      INTO ret_code, ret_note, completed_tick, provider_node, provider_location, paused, uptodate, cur_error
      FROM pgq_node.get_consumer_state(i_queue_name, worker_name) c;
    IF ret_code >= 400 THEN
        RETURN;
    END IF;
    IF combined_queue IS NOT NULL THEN
        SELECT n.node_type INTO combined_type FROM pgq_node.node_info n WHERE n.queue_name = get_worker_state.combined_queue;
        IF NOT FOUND THEN
            ret_code := 404;
            ret_note := 'Combinde queue node not found: ' || combined_queue;
            RETURN;
        END IF;
    END IF;
    IF node_type IN ('root', 'branch') THEN
        SELECT min(last_tick) FILTER (WHERE consumer_name <> '.global_watermark'),
               min(last_tick) FILTER (WHERE consumer_name = '.global_watermark')
          INTO local_watermark, global_watermark
          FROM pgq.get_consumer_info(i_queue_name);
        SELECT t.tick_id INTO local_queue_top
          FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
         WHERE q.queue_name = i_queue_name
         ORDER BY t.tick_queue DESC, t.tick_id DESC LIMIT 1;
        local_watermark := coalesce(local_watermark, local_queue_top);
    ELSE
        local_watermark := completed_tick;
    END IF;
    ret_code := 100;
    ret_note := 'Ok';
END;
$$;
