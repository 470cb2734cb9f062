-- pgq.ticker(queue): insert a tick for the queue when one is due; returns the tick id, or
-- NULL when not due yet. A tick is due when enough events have arrived (ticker_max_count),
-- when the oldest untick'd event is old enough (ticker_max_lag), or, on an idle queue, with
-- gradually growing gaps up to ticker_idle_period.
--
-- A new tick that may carry events is announced with NOTIFY pgq_tick (payload: queue name) so
-- consumers can wake up at once instead of polling: when the event sequence moved since the
-- previous tick (events, or pgq.force_tick), or when the queue holds committed events the
-- previous tick's snapshot did not see (transactions running then, with events numbered before
-- it, and a new queue's first event, which does not move the sequence). An idle tick without them is not announced: consumers pick it up on their own time, and the
-- hundred consumers of one queue are not all woken for an empty batch.
--
-- With skytools.quiet_tick set to 'on' in the transaction, the call ticks at once whatever the
-- thresholds say, and announces the tick only if it holds committed events: a consumer that
-- needs a tick for itself (a table's initial copy waits for one) makes it without waking the
-- others, and wakes itself.
CREATE OR REPLACE FUNCTION pgq.ticker(i_queue_name text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    q           record;
    v_seq       bigint;
    last        record;
    v_prev_time timestamptz;
    v_lag       interval;
    v_tick_id   bigint;
    v_quiet     boolean := coalesce(current_setting('skytools.quiet_tick', true), '') = 'on';
    v_announce  boolean := true;
BEGIN
    SELECT queue_id, queue_tick_seq, queue_event_seq, queue_data_pfx, queue_external_ticker, queue_ticker_paused,
           queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period
      INTO q
      FROM pgq.queue WHERE queue_name = i_queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such queue';
    END IF;
    IF q.queue_external_ticker THEN
        RAISE EXCEPTION 'This queue has external tick source.';
    END IF;
    IF q.queue_ticker_paused THEN
        RAISE EXCEPTION 'Ticker has been paused for this queue';
    END IF;

    v_seq := pgq.seq_getval(q.queue_event_seq);

    SELECT t.tick_id, t.tick_time, t.tick_event_seq, t.tick_snapshot,
           txid_snapshot_xmin(t.tick_snapshot) AS sxmin,
           txid_snapshot_xmax(t.tick_snapshot) AS sxmax
      INTO last
      FROM pgq.tick t
     WHERE t.tick_queue = q.queue_id
     ORDER BY t.tick_queue DESC, t.tick_id DESC
     LIMIT 1;

    IF FOUND THEN
        -- a snapshot from the future means the database was restored or txids wrapped
        IF last.sxmin > txid_current() THEN
            RAISE EXCEPTION 'Invalid PgQ state: old xmin=%, old xmax=%, cur txid=%',
                last.sxmin, last.sxmax, txid_current();
        END IF;
        IF v_seq < last.tick_event_seq THEN
            RAISE WARNING 'Negative new_events?  old=% cur=%', last.tick_event_seq, v_seq;
        END IF;
        IF last.sxmax > txid_current() THEN
            RAISE WARNING 'Dubious PgQ state: old xmax=%, cur txid=%', last.sxmax, txid_current();
        END IF;

        v_lag := now() - last.tick_time;
        IF v_quiet THEN
            v_announce := pgq._tick_has_events(q.queue_data_pfx, last.tick_snapshot);
        ELSIF v_seq > last.tick_event_seq THEN
            -- events are waiting: tick once there are enough of them or they are old enough
            IF v_seq - last.tick_event_seq < q.queue_ticker_max_count AND v_lag < q.queue_ticker_max_lag THEN
                RETURN NULL;
            END IF;
        ELSE
            -- idle queue: let the gap between ticks double each time, up to the idle period
            SELECT t.tick_time INTO v_prev_time
              FROM pgq.tick t
             WHERE t.tick_queue = q.queue_id AND t.tick_id < last.tick_id
             ORDER BY t.tick_queue DESC, t.tick_id DESC
             LIMIT 1;
            IF FOUND THEN
                IF v_lag < q.queue_ticker_max_lag / 2
                   OR (v_lag < (last.tick_time - v_prev_time) * 2 AND v_lag < q.queue_ticker_idle_period)
                THEN
                    RETURN NULL;
                END IF;
            END IF;
            -- the sequence stays put for a new queue's first event (it takes the start value,
            -- which seq_getval returned before) and for events numbered before the last tick by
            -- transactions that committed after it: the event tables tell
            v_announce := pgq._tick_has_events(q.queue_data_pfx, last.tick_snapshot);
        END IF;
    END IF;

    v_tick_id := nextval(q.queue_tick_seq);
    INSERT INTO pgq.tick (tick_queue, tick_id, tick_event_seq)
    VALUES (q.queue_id, v_tick_id, v_seq);
    IF v_announce THEN
        PERFORM pg_notify('pgq_tick', i_queue_name);
    END IF;
    RETURN v_tick_id;
END;
$$;

-- pgq.ticker(): tick every queue that has an internal, unpaused ticker; returns how many
-- queues got a tick. This is what pgqd calls every ticker_period.
CREATE OR REPLACE FUNCTION pgq.ticker()
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_name  text;
    v_count bigint := 0;
BEGIN
    FOR v_name IN
        SELECT queue_name FROM pgq.queue
         WHERE NOT queue_external_ticker AND NOT queue_ticker_paused
         ORDER BY queue_name
    LOOP
        IF pgq.ticker(v_name) > 0 THEN
            v_count := v_count + 1;
        END IF;
    END LOOP;
    RETURN v_count;
END;
$$;

-- pgq.ticker(queue, tick_id, tick_time, event_seq): external ticker, used on cascaded nodes
-- that copy the provider's ticks. Keeps the local sequences at least as far as the copied tick.
CREATE OR REPLACE FUNCTION pgq.ticker(i_queue_name text, i_tick_id bigint, i_orig_timestamp timestamptz, i_event_seq bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    q record;
BEGIN
    SELECT queue_id, queue_tick_seq, queue_event_seq INTO q
      FROM pgq.queue
     WHERE queue_name = i_queue_name AND queue_external_ticker AND NOT queue_ticker_paused;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue not found or ticker disabled: %', i_queue_name;
    END IF;
    INSERT INTO pgq.tick (tick_queue, tick_id, tick_time, tick_event_seq)
    VALUES (q.queue_id, i_tick_id, i_orig_timestamp, i_event_seq);
    PERFORM pgq.seq_setval(q.queue_tick_seq, i_tick_id);
    PERFORM pgq.seq_setval(q.queue_event_seq, i_event_seq);
    PERFORM pg_notify('pgq_tick', i_queue_name);
    RETURN i_tick_id;
END;
$$;
