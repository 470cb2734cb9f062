-- pgq.find_tick_helper(queue_id, prev_tick_id, prev_tick_time, prev_tick_seq, min_count, min_interval):
-- for next_batch_custom, the first tick after prev_tick that closes a batch holding at least
-- min_count events or spanning at least min_interval (either condition suffices). Returns NULLs
-- when no tick qualifies yet.
CREATE OR REPLACE FUNCTION pgq.find_tick_helper(
    IN i_queue_id int4, IN i_prev_tick_id int8, IN i_prev_tick_time timestamptz, IN i_prev_tick_seq int8,
    IN i_min_count int8, IN i_min_interval interval,
    OUT next_tick_id int8, OUT next_tick_time timestamptz, OUT next_tick_seq int8)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_top       record;
    v_ok        boolean := false;
    v_exact     boolean := true;
BEGIN
    -- look at the newest tick first: usually it is the only candidate
    SELECT tick_id, tick_time, tick_event_seq INTO v_top
      FROM pgq.tick
     WHERE tick_queue = i_queue_id AND tick_id > i_prev_tick_id
     ORDER BY tick_queue DESC, tick_id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    IF i_min_count IS NOT NULL THEN
        v_ok := v_top.tick_event_seq - i_prev_tick_seq >= i_min_count;
        -- far beyond the threshold: an earlier tick probably qualifies too
        v_exact := v_top.tick_event_seq - i_prev_tick_seq <= i_min_count * 2;
    END IF;
    IF i_min_interval IS NOT NULL THEN
        v_ok := v_ok OR v_top.tick_time - i_prev_tick_time >= i_min_interval;
        v_exact := v_exact AND v_top.tick_time - i_prev_tick_time <= i_min_interval * 2;
    END IF;

    IF NOT v_exact THEN
        SELECT tick_id, tick_time, tick_event_seq INTO v_top
          FROM pgq.tick
         WHERE tick_queue = i_queue_id AND tick_id > i_prev_tick_id
           AND ((i_min_count IS NOT NULL AND tick_event_seq - i_prev_tick_seq >= i_min_count)
                OR (i_min_interval IS NOT NULL AND tick_time - i_prev_tick_time >= i_min_interval))
         ORDER BY tick_queue, tick_id LIMIT 1;
        v_ok := true;
    END IF;

    IF v_ok THEN
        next_tick_id := v_top.tick_id;
        next_tick_time := v_top.tick_time;
        next_tick_seq := v_top.tick_event_seq;
    END IF;
END;
$$;
