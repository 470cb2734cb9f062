-- Event table rotation: old events are removed by TRUNCATE of a whole table, never by DELETE.
--
-- pgq.maint_rotate_tables_step1(queue): when the rotation period has passed and no consumer
-- can still need the oldest table, truncate it and make it the insert target; ticks older than
-- the previous switch go too. Always returns 0 (nothing to repeat).
-- pgq.maint_rotate_tables_step2(): run in a separate, later transaction; records a txid that
-- is surely after the step1 transaction, which completes the switch for readers.
CREATE OR REPLACE FUNCTION pgq.maint_rotate_tables_step1(i_queue_name text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    q           record;
    v_oldest    bigint;
    v_xmin      bigint;
    v_next      integer;
    v_tbl       text;
BEGIN
    SELECT queue_id, queue_cur_table, queue_ntables, queue_data_pfx, queue_switch_step1, queue_switch_step2
      INTO q
      FROM pgq.queue
     WHERE queue_name = i_queue_name
       AND queue_rotation_period IS NOT NULL
       AND queue_switch_step2 IS NOT NULL
       AND queue_switch_time + queue_rotation_period < current_timestamp
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF txid_current() < q.queue_switch_step1 THEN
        RAISE EXCEPTION 'queue % maint failure: step1=%, current=%', i_queue_name, q.queue_switch_step1, txid_current();
    END IF;

    -- the slowest consumer must be past the previous switch, else it still reads the table
    -- that would be truncated now
    SELECT min(sub_last_tick) INTO v_oldest FROM pgq.subscription WHERE sub_queue = q.queue_id;
    IF v_oldest IS NOT NULL THEN
        SELECT txid_snapshot_xmin(tick_snapshot) INTO v_xmin
          FROM pgq.tick WHERE tick_queue = q.queue_id AND tick_id = v_oldest;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'queue % maint failure: tick % not found', i_queue_name, v_oldest;
        END IF;
        IF v_xmin <= q.queue_switch_step2 THEN
            RETURN 0;
        END IF;
    END IF;

    v_next := (q.queue_cur_table + 1) % q.queue_ntables;
    v_tbl := pgq.quote_fqname(q.queue_data_pfx || '_' || v_next);
    BEGIN
        -- a long reader of that table (a slow COPY, say) postpones rotation, it does not wait for it
        EXECUTE 'LOCK TABLE ' || v_tbl || ' IN ACCESS EXCLUSIVE MODE NOWAIT';
        EXECUTE 'TRUNCATE ' || v_tbl;
    EXCEPTION
        WHEN lock_not_available THEN
            RETURN 0;
    END;

    UPDATE pgq.queue
       SET queue_cur_table = v_next, queue_switch_time = current_timestamp,
           queue_switch_step1 = txid_current(), queue_switch_step2 = NULL
     WHERE queue_id = q.queue_id;

    -- ticks whose events lived only in the truncated table are useless now
    DELETE FROM pgq.tick
     WHERE tick_queue = q.queue_id AND txid_snapshot_xmin(tick_snapshot) < q.queue_switch_step2;
    RETURN 0;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.maint_rotate_tables_step2()
RETURNS integer
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE pgq.queue SET queue_switch_step2 = txid_current() WHERE queue_switch_step2 IS NULL;
    RETURN 0;
END;
$$;
