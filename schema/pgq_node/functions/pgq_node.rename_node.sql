-- pgq_node.rename_node(queue, old_name, new_name): this database's view of a member node under a
-- new name: its location, this node itself when it is the one renamed, the provider of local
-- consumers, and a subscriber of this node together with its watermark consumer. Run on every
-- member (londiste rename-node does); running it again is a no-op ('Node already renamed').
-- Upstream has no working rename (its admin tool calls rename_node_step1/2, which pgq_node 3.x
-- does not ship); this is this project's own.
CREATE OR REPLACE FUNCTION pgq_node.rename_node(
    IN i_queue_name text, IN i_old_name text, IN i_new_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_loc       record;
    v_sub       record;
    v_tick      bigint;
    v_wm_new    text := '.' || i_new_name || '.watermark';
BEGIN
    PERFORM 1 FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Node not initialized for queue: ' || i_queue_name;
        RETURN;
    END IF;
    SELECT node_location, dead INTO v_loc FROM pgq_node.node_location
     WHERE queue_name = i_queue_name AND node_name = i_old_name;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM pgq_node.node_location WHERE queue_name = i_queue_name AND node_name = i_new_name) THEN
            ret_code := 200;
            ret_note := 'Node already renamed: ' || i_new_name;
        ELSE
            ret_code := 404;
            ret_note := 'Unknown node: ' || i_old_name;
        END IF;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM pgq_node.node_location WHERE queue_name = i_queue_name AND node_name = i_new_name) THEN
        ret_code := 409;
        ret_note := 'Node name already in use: ' || i_new_name;
        RETURN;
    END IF;

    -- the referencing rows move to a copy of the location row before the old one goes
    INSERT INTO pgq_node.node_location (queue_name, node_name, node_location, dead)
    VALUES (i_queue_name, i_new_name, v_loc.node_location, v_loc.dead);
    UPDATE pgq_node.node_info SET node_name = i_new_name WHERE queue_name = i_queue_name AND node_name = i_old_name;
    UPDATE pgq_node.local_state SET provider_node = i_new_name WHERE queue_name = i_queue_name AND provider_node = i_old_name;
    FOR v_sub IN SELECT watermark_name FROM pgq_node.subscriber_info
                  WHERE queue_name = i_queue_name AND subscriber_node = i_old_name LOOP
        SELECT last_tick INTO v_tick FROM pgq.get_consumer_info(i_queue_name, v_sub.watermark_name);
        PERFORM pgq.register_consumer_at(i_queue_name, v_wm_new, v_tick);
        UPDATE pgq_node.subscriber_info SET subscriber_node = i_new_name, watermark_name = v_wm_new
         WHERE queue_name = i_queue_name AND subscriber_node = i_old_name;
        PERFORM pgq.unregister_consumer(i_queue_name, v_sub.watermark_name);
    END LOOP;
    DELETE FROM pgq_node.node_location WHERE queue_name = i_queue_name AND node_name = i_old_name;
    ret_code := 200;
    ret_note := 'Node renamed: ' || i_old_name || ' -> ' || i_new_name;
END;
$$;
