-- pgq_node.get_node_info(queue): this database's node for the queue: type, name, provider,
-- worker state, watermarks. ret_code 404 when there is none. On root and branch the local
-- watermark is the lowest position of any subscriber (the newest tick when there is none);
-- on a leaf it is its worker's position. The root reports its newest tick as worker_last_tick.
CREATE OR REPLACE FUNCTION pgq_node.get_node_info(
    IN i_queue_name text,
    OUT ret_code int4, OUT ret_note text,
    OUT node_type text, OUT node_name text,
    OUT global_watermark bigint, OUT local_watermark bigint,
    OUT provider_node text, OUT provider_location text,
    OUT combined_queue text, OUT combined_type text,
    OUT worker_name text, OUT worker_paused bool, OUT worker_uptodate bool, OUT worker_last_tick bigint,
    OUT node_attrs text, OUT target_for text[])
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_top bigint;
BEGIN
    SELECT 100, 'Ok', n.node_type, n.node_name, c.node_type, c.queue_name, w.provider_node, l.node_location,
           n.worker_name, w.paused, w.uptodate, w.last_tick_id, n.node_attrs
      INTO ret_code, ret_note, node_type, node_name, combined_type, combined_queue, provider_node, provider_location,
           worker_name, worker_paused, worker_uptodate, worker_last_tick, node_attrs
      FROM pgq_node.node_info n
      LEFT JOIN pgq_node.node_info c ON c.queue_name = n.combined_queue
      LEFT JOIN pgq_node.local_state w ON w.queue_name = n.queue_name AND w.consumer_name = n.worker_name
      LEFT JOIN pgq_node.node_location l ON l.queue_name = w.queue_name AND l.node_name = w.provider_node
     WHERE n.queue_name = i_queue_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown queue: ' || i_queue_name;
        RETURN;
    END IF;

    IF node_type IN ('root', 'branch') THEN
        SELECT min(last_tick) FILTER (WHERE consumer_name <> '.global_watermark'),
               min(last_tick) FILTER (WHERE consumer_name = '.global_watermark')
          INTO local_watermark, global_watermark
          FROM pgq.get_consumer_info(i_queue_name);
        SELECT t.tick_id INTO v_top
          FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
         WHERE q.queue_name = i_queue_name
         ORDER BY t.tick_queue DESC, t.tick_id DESC LIMIT 1;
        local_watermark := coalesce(local_watermark, v_top);
        SELECT array_agg(x.queue_name ORDER BY x.queue_name) INTO target_for
          FROM pgq_node.node_info x WHERE x.combined_queue = i_queue_name;
        IF node_type = 'root' THEN
            worker_last_tick := v_top;
        END IF;
    ELSE
        local_watermark := worker_last_tick;
    END IF;
END;
$$;
