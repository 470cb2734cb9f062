-- pgq.batch_event_tables(batch_id): the event tables that may hold the batch's events.
-- Inserts go to one table at a time; after a rotation, transactions that started before it may
-- still write into the previous table, so a batch spanning the switch reads both.
CREATE OR REPLACE FUNCTION pgq.batch_event_tables(x_batch_id bigint)
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    b           record;
    v_prev_nr   integer;
    v_need_prev boolean;
    v_need_cur  boolean;
BEGIN
    SELECT txid_snapshot_xmin(prev.tick_snapshot) AS lo,
           txid_snapshot_xmax(cur.tick_snapshot) AS hi,
           q.queue_data_pfx, q.queue_ntables, q.queue_cur_table, q.queue_switch_step1, q.queue_switch_step2
      INTO b
      FROM pgq.subscription s
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
      JOIN pgq.tick prev ON prev.tick_queue = s.sub_queue AND prev.tick_id = s.sub_last_tick
      JOIN pgq.tick cur ON cur.tick_queue = s.sub_queue AND cur.tick_id = s.sub_next_tick
     WHERE s.sub_batch = x_batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Cannot find data for batch %', x_batch_id;
    END IF;

    IF b.hi < b.queue_switch_step1 THEN
        -- every transaction of the batch finished before the switch began
        v_need_prev := true;
        v_need_cur := false;
    ELSIF b.queue_switch_step2 IS NOT NULL AND b.lo > b.queue_switch_step2 THEN
        -- every transaction of the batch started after the switch was complete
        v_need_prev := false;
        v_need_cur := true;
    ELSE
        v_need_prev := true;
        v_need_cur := true;
    END IF;

    IF v_need_prev THEN
        v_prev_nr := CASE WHEN b.queue_cur_table = 0 THEN b.queue_ntables - 1 ELSE b.queue_cur_table - 1 END;
        RETURN NEXT b.queue_data_pfx || '_' || v_prev_nr;
    END IF;
    IF v_need_cur THEN
        RETURN NEXT b.queue_data_pfx || '_' || b.queue_cur_table;
    END IF;
END;
$$;
