-- pgq_node.set_subscriber_watermark(queue, node, tick): a subscriber reports how far its whole
-- subtree got; the queue then keeps events from that tick on. Never moves backwards.
CREATE OR REPLACE FUNCTION pgq_node.set_subscriber_watermark(
    IN i_queue_name text, IN i_node_name text, IN i_watermark bigint,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_wm_name   text := '.' || i_node_name || '.watermark';
    v_current   bigint;
BEGIN
    SELECT last_tick INTO v_current FROM pgq.get_consumer_info(i_queue_name, v_wm_name);
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'node ' || i_node_name || ' not subscribed to queue ' || i_queue_name;
        RETURN;
    END IF;
    IF i_watermark < v_current THEN
        ret_code := 405;
        ret_note := 'watermark must not be moved backwards';
        RETURN;
    ELSIF i_watermark = v_current THEN
        ret_code := 100;
        ret_note := 'watermark already set';
        RETURN;
    END IF;
    PERFORM pgq.register_consumer_at(i_queue_name, v_wm_name, i_watermark);
    ret_code := 200;
    ret_note := v_wm_name || ' set to ' || i_watermark::text;
END;
$$;
