-- pgq_node.promote_branch(queue): turn a branch into the root: its queue accepts inserts and
-- gets internal ticks again, continuing from the last tick it received.
CREATE OR REPLACE FUNCTION pgq_node.promote_branch(
    IN i_queue_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    me      record;
    v_last  bigint;
BEGIN
    SELECT node_name, node_type, worker_name INTO me FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Node not initialized for queue: ' || i_queue_name;
        RETURN;
    END IF;
    IF me.node_type <> 'branch' THEN
        ret_code := 301;
        ret_note := 'Node not branch';
        RETURN;
    END IF;
    UPDATE pgq.queue SET queue_disable_insert = false, queue_external_ticker = false WHERE queue_name = i_queue_name;
    SELECT t.tick_id INTO v_last
      FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
     WHERE q.queue_name = i_queue_name
     ORDER BY t.tick_queue DESC, t.tick_id DESC LIMIT 1;
    PERFORM pgq.seq_setval(queue_tick_seq, v_last) FROM pgq.queue WHERE queue_name = i_queue_name;
    UPDATE pgq_node.node_info SET node_type = 'root' WHERE queue_name = i_queue_name;
    UPDATE pgq_node.local_state SET provider_node = me.node_name, last_tick_id = v_last, uptodate = false
     WHERE queue_name = i_queue_name AND consumer_name = me.worker_name;
    ret_code := 200;
    ret_note := 'Branch node promoted to root';
END;
$$;
