-- pgq._tick_range_tables(queue_id, prev_tick, cur_tick): internal; the event tables that may hold
-- the events between two ticks of a queue (what pgq.batch_event_tables answers for a batch).
-- Inserts go to one table at a time; after a rotation, transactions that started before it may
-- still write into the previous table, so a range spanning the switch reads both. No rows: a
-- tick is missing.
CREATE OR REPLACE FUNCTION pgq._tick_range_tables(i_queue_id int4, i_prev_tick int8, i_cur_tick int8)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
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
      FROM pgq.queue q
      JOIN pgq.tick prev ON prev.tick_queue = q.queue_id AND prev.tick_id = i_prev_tick
      JOIN pgq.tick cur ON cur.tick_queue = q.queue_id AND cur.tick_id = i_cur_tick
     WHERE q.queue_id = i_queue_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    IF b.hi < b.queue_switch_step1 THEN
        -- every transaction of the range finished before the switch began
        v_need_prev := true;
        v_need_cur := false;
    ELSIF b.queue_switch_step2 IS NOT NULL AND b.lo > b.queue_switch_step2 THEN
        -- every transaction of the range started after the switch was complete
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
