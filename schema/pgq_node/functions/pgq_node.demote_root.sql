-- pgq_node.demote_root(queue, step, new_provider): turn the root into a branch, in three steps
-- each in its own transaction (switchover/takeover): 1 stop inserts and internal ticking,
-- 2 write a last tick covering everything inserted, 3 become a branch reading from new_provider.
-- Returns the last tick.
CREATE OR REPLACE FUNCTION pgq_node.demote_root(
    IN i_queue_name text, IN i_step int4, IN i_new_provider text,
    OUT ret_code int4, OUT ret_note text, OUT last_tick int8)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    me      record;
    v_pfx   text;
    v_ev    int8;
BEGIN
    SELECT node_type, worker_name INTO me FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Node not initialized for queue: ' || i_queue_name;
        RETURN;
    END IF;
    IF me.node_type <> 'root' THEN
        ret_code := 301;
        ret_note := 'Node not root';
        RETURN;
    END IF;
    IF i_step > 1 THEN
        SELECT queue_data_pfx INTO v_pfx FROM pgq.queue
         WHERE queue_name = i_queue_name AND queue_disable_insert AND queue_external_ticker;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'steps in wrong order';
        END IF;
    END IF;

    IF i_step = 1 THEN
        UPDATE pgq.queue SET queue_disable_insert = true, queue_external_ticker = true WHERE queue_name = i_queue_name;
        IF NOT FOUND THEN
            ret_code := 404;
            ret_note := 'Huh, no queue?: ' || i_queue_name;
            RETURN;
        END IF;
        ret_code := 200;
        ret_note := 'Step 1: Writing disabled for: ' || i_queue_name;
    ELSIF i_step = 2 THEN
        -- wait out writers that started before step 1, then tick over everything they wrote
        SET LOCAL session_replication_role = 'replica';
        EXECUTE 'LOCK TABLE ' || pgq.quote_fqname(v_pfx) || ' IN EXCLUSIVE MODE';
        SELECT nextval(queue_tick_seq), nextval(queue_event_seq) INTO last_tick, v_ev
          FROM pgq.queue WHERE queue_name = i_queue_name;
        PERFORM pgq.ticker(i_queue_name, last_tick, now(), v_ev);
        ret_code := 200;
        ret_note := 'Step 2: Inserted last tick: ' || i_queue_name;
    ELSIF i_step = 3 THEN
        SELECT t.tick_id INTO last_tick
          FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue
         WHERE q.queue_name = i_queue_name
         ORDER BY t.tick_queue DESC, t.tick_id DESC LIMIT 1;
        UPDATE pgq_node.node_info SET node_type = 'branch' WHERE queue_name = i_queue_name;
        UPDATE pgq_node.local_state SET provider_node = i_new_provider, last_tick_id = last_tick, uptodate = false
         WHERE queue_name = i_queue_name AND consumer_name = me.worker_name;
        ret_code := 200;
        ret_note := 'Step 3: Demoted root to branch: ' || i_queue_name;
    ELSE
        RAISE EXCEPTION 'incorrect step number';
    END IF;
END;
$$;
