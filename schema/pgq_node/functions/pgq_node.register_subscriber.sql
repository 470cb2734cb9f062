-- pgq_node.register_subscriber(queue, node, worker, tick_id): on a root or branch, let another
-- node read this queue: its worker becomes a PgQ consumer (from tick_id, default the global
-- watermark) and a watermark consumer marks how far its subtree got. Returns the global
-- watermark, where the new node starts.
CREATE OR REPLACE FUNCTION pgq_node.register_subscriber(
    IN i_queue_name text, IN i_remote_node_name text, IN i_remote_worker_name text, IN i_custom_tick_id int8,
    OUT ret_code int4, OUT ret_note text, OUT global_watermark bigint)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_type      text;
    v_wm_name   text := '.' || i_remote_node_name || '.watermark';
BEGIN
    SELECT node_type INTO v_type FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown queue: ' || i_queue_name;
        RETURN;
    END IF;
    SELECT last_tick INTO global_watermark FROM pgq.get_consumer_info(i_queue_name, '.global_watermark');
    IF v_type NOT IN ('root', 'branch') THEN
        ret_code := 401;
        ret_note := 'Cannot subscribe to ' || v_type || ' node';
        RETURN;
    END IF;
    PERFORM pgq.register_consumer_at(i_queue_name, v_wm_name, global_watermark);
    PERFORM pgq.register_consumer_at(i_queue_name, i_remote_worker_name, coalesce(i_custom_tick_id, global_watermark));
    INSERT INTO pgq_node.subscriber_info (queue_name, subscriber_node, worker_name, watermark_name)
    VALUES (i_queue_name, i_remote_node_name, i_remote_worker_name, v_wm_name);
    ret_code := 200;
    ret_note := 'Subscriber registered: ' || i_remote_node_name;
END;
$$;
