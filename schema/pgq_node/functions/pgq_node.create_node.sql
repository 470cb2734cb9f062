-- pgq_node.create_node(queue, type, node, worker, provider, global_watermark, combined_queue):
-- make this database a node of the queue. The root creates the queue; a branch creates a copy
-- of it fed by its worker (external ticks, no local inserts) starting at the global watermark;
-- a leaf has no queue of its own. The node's worker is registered to read from the provider
-- (the root's worker "reads" from the root itself).
CREATE OR REPLACE FUNCTION pgq_node.create_node(
    IN i_queue_name text, IN i_node_type text, IN i_node_name text, IN i_worker_name text,
    IN i_provider_name text, IN i_global_watermark bigint, IN i_combined_queue text,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_wm_consumer   text := '.global_watermark';
    v_start         bigint;
    r               record;
BEGIN
    IF EXISTS (SELECT 1 FROM pgq_node.node_info WHERE queue_name = i_queue_name) THEN
        ret_code := 401;
        ret_note := 'Node already initialized';
        RETURN;
    END IF;

    IF i_node_type = 'root' THEN
        IF coalesce(i_provider_name, i_global_watermark::text, i_combined_queue) IS NOT NULL THEN
            ret_code := 401;
            ret_note := 'unexpected args for ' || i_node_type;
            RETURN;
        END IF;
        PERFORM pgq.create_queue(i_queue_name);
        PERFORM pgq.register_consumer(i_queue_name, v_wm_consumer);
        SELECT last_tick INTO v_start FROM pgq.get_consumer_info(i_queue_name, v_wm_consumer);
    ELSIF i_node_type = 'branch' THEN
        IF i_provider_name IS NULL THEN
            ret_code := 401;
            ret_note := 'provider not set for ' || i_node_type;
            RETURN;
        END IF;
        IF i_global_watermark IS NULL THEN
            ret_code := 401;
            ret_note := 'global watermark not set for ' || i_node_type;
            RETURN;
        END IF;
        PERFORM pgq.create_queue(i_queue_name);
        -- ticks and events come from the provider only
        UPDATE pgq.queue SET queue_external_ticker = true, queue_disable_insert = true WHERE queue_name = i_queue_name;
        IF i_global_watermark > 1 THEN
            PERFORM pgq.ticker(i_queue_name, i_global_watermark, now(), 1);
        END IF;
        PERFORM pgq.register_consumer_at(i_queue_name, v_wm_consumer, i_global_watermark);
        v_start := i_global_watermark;
    ELSIF i_node_type = 'leaf' THEN
        v_start := i_global_watermark;
        IF i_combined_queue IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pgq.get_queue_info(i_combined_queue)) THEN
            ret_code := 401;
            ret_note := 'non-existing queue on leaf side: ' || i_combined_queue;
            RETURN;
        END IF;
    ELSE
        ret_code := 401;
        ret_note := 'bad node type: ' || coalesce(i_node_type, 'NULL');
        RETURN;
    END IF;

    INSERT INTO pgq_node.node_info (queue_name, node_type, node_name, worker_name, combined_queue)
    VALUES (i_queue_name, i_node_type, i_node_name, i_worker_name, i_combined_queue);

    SELECT f.ret_code, f.ret_note INTO r
      FROM pgq_node.register_consumer(i_queue_name, i_worker_name,
                                      CASE WHEN i_node_type = 'root' THEN i_node_name ELSE i_provider_name END,
                                      v_start) f;
    IF r.ret_code <> 200 THEN
        ret_code := r.ret_code;
        ret_note := r.ret_note;
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Node "' || i_node_name || '" initialized for queue "' || i_queue_name || '" with type "' || i_node_type || '"';
END;
$$;
