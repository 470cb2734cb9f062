-- pgq_node.set_global_watermark(queue, tick): the position every node of the cascade has passed.
-- On the root, NULL means "compute it" (the lowest subscriber position); the root then announces
-- it in the queue (pgq.global-watermark) for the other nodes. A branch accepts it when it has
-- that tick; a leaf ignores it.
CREATE OR REPLACE FUNCTION pgq_node.set_global_watermark(
    IN i_queue_name text, IN i_watermark bigint,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    me      record;
    v_wm    bigint := i_watermark;
    r       record;
BEGIN
    SELECT node_type, worker_name INTO me FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Queue' || i_queue_name || ' not found';
        RETURN;
    END IF;

    IF me.node_type = 'root' THEN
        IF v_wm IS NULL THEN
            SELECT f.ret_code, f.ret_note, f.local_watermark INTO r FROM pgq_node.get_node_info(i_queue_name) f;
            IF r.ret_code >= 300 THEN
                ret_code := r.ret_code;
                ret_note := r.ret_note;
                RETURN;
            END IF;
            v_wm := r.local_watermark;
            IF v_wm IS NULL THEN
                RAISE EXCEPTION 'local_watermark=NULL from get_node_info()?';
            END IF;
        END IF;
        PERFORM pgq.register_consumer_at(i_queue_name, '.global_watermark', v_wm);
        PERFORM pgq.insert_event(i_queue_name, 'pgq.global-watermark', v_wm::text, i_queue_name, NULL, NULL, NULL);
        UPDATE pgq_node.local_state SET last_tick_id = v_wm
         WHERE queue_name = i_queue_name AND consumer_name = me.worker_name;
    ELSIF me.node_type = 'branch' THEN
        IF v_wm IS NULL THEN
            ret_code := 500;
            ret_note := 'bad usage: wm=null on branch node';
            RETURN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
                        WHERE q.queue_name = i_queue_name AND t.tick_id = v_wm) THEN
            ret_code := 200;
            ret_note := 'Skipping global watermark update to ' || v_wm::text;
            RETURN;
        END IF;
        PERFORM pgq.register_consumer_at(i_queue_name, '.global_watermark', v_wm);
    ELSE
        ret_code := 100;
        ret_note := 'Ignoring global watermark in leaf';
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Global watermark set to ' || v_wm::text;
END;
$$;
