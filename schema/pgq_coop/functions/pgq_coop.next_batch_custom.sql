-- pgq_coop.next_batch_custom(queue, consumer, subconsumer, min_lag, min_count, min_interval
-- [, dead_interval]): as pgq_coop.next_batch, with pgq.next_batch_custom's batch sizing.
--
-- The main consumer's row is locked for the whole cut, so two sub-consumers never get the same
-- ticks: the main consumer takes the next batch and passes it on at once (its position moves to
-- the batch's end), and the sub-consumer's row (locked too: an unregister waits) holds the batch
-- until pgq_coop.finish_batch. A dead sibling holding a batch is taken over before an idle one.
-- Sub-consumers (and the main consumer) are registered on first use. Every call marks the
-- sub-consumer as seen (upstream marks it only when it takes a batch, so an idle sibling looked dead
-- and was unregistered, to register again on its next call).
CREATE OR REPLACE FUNCTION pgq_coop.next_batch_custom(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text,
    i_min_lag interval, i_min_count int4, i_min_interval interval, i_dead_interval interval)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_main      record;
    v_sub       record;
    v_dead      record;
    v_batch     bigint;
    v_last      bigint;
    v_next      bigint;
BEGIN
    -- registered on first use (the consumer too)
    IF NOT EXISTS (SELECT 1 FROM pgq.subscription s
                     JOIN pgq.queue q ON q.queue_id = s.sub_queue
                     JOIN pgq.consumer c ON c.co_id = s.sub_consumer
                    WHERE q.queue_name = i_queue_name AND c.co_name = i_consumer_name || '.' || i_subconsumer_name) THEN
        PERFORM pgq_coop.register_subconsumer(i_queue_name, i_consumer_name, i_subconsumer_name);
    END IF;

    SELECT s.sub_queue, s.sub_consumer, s.sub_next_tick INTO v_main
      FROM pgq.subscription s
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
     WHERE q.queue_name = i_queue_name AND c.co_name = i_consumer_name
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'main consumer not found';
    END IF;
    IF v_main.sub_next_tick IS NOT NULL THEN
        RAISE EXCEPTION 'main consumer has batch open?';
    END IF;

    SELECT s.sub_consumer, s.sub_id, s.sub_batch INTO v_sub
      FROM pgq.subscription s
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
     WHERE s.sub_queue = v_main.sub_queue AND c.co_name = i_consumer_name || '.' || i_subconsumer_name
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subconsumer not found';
    END IF;

    -- seen alive, even when there is nothing to take: siblings judge death by this
    UPDATE pgq.subscription SET sub_active = now()
     WHERE sub_queue = v_main.sub_queue AND sub_consumer = v_sub.sub_consumer;

    -- the batch already in hand comes again (the sub-consumer restarted)
    IF v_sub.sub_batch IS NOT NULL THEN
        RETURN v_sub.sub_batch;
    END IF;

    -- a sibling silent for longer than the dead interval: its subscription goes, its batch (if it
    -- held one) comes here
    IF i_dead_interval IS NOT NULL THEN
        SELECT s.sub_consumer, s.sub_batch, s.sub_last_tick, s.sub_next_tick INTO v_dead
          FROM pgq.subscription s
         WHERE s.sub_queue = v_main.sub_queue AND s.sub_id = v_sub.sub_id
           AND s.sub_consumer NOT IN (v_sub.sub_consumer, v_main.sub_consumer)
           AND s.sub_active < now() - i_dead_interval
         ORDER BY s.sub_batch IS NULL, s.sub_active
         LIMIT 1
           FOR UPDATE OF s;
        IF FOUND THEN
            DELETE FROM pgq.subscription WHERE sub_queue = v_main.sub_queue AND sub_consumer = v_dead.sub_consumer;
            -- its name goes too once no queue uses it (as pgq.unregister_consumer does)
            DELETE FROM pgq.consumer c WHERE c.co_id = v_dead.sub_consumer
               AND NOT EXISTS (SELECT 1 FROM pgq.subscription x WHERE x.sub_consumer = c.co_id);
            v_batch := v_dead.sub_batch;
            v_last := v_dead.sub_last_tick;
            v_next := v_dead.sub_next_tick;
        END IF;
    END IF;

    IF v_batch IS NULL THEN
        SELECT b.batch_id, b.prev_tick_id, b.cur_tick_id INTO v_batch, v_last, v_next
          FROM pgq.next_batch_custom(i_queue_name, i_consumer_name, i_min_lag, i_min_count, i_min_interval) b;
        IF v_batch IS NULL THEN
            RETURN NULL;
        END IF;
        -- the main consumer passes the batch on: its position moves to the batch's end (first, as
        -- sub_batch is unique)
        UPDATE pgq.subscription
           SET sub_batch = NULL, sub_last_tick = sub_next_tick, sub_next_tick = NULL, sub_active = now()
         WHERE sub_queue = v_main.sub_queue AND sub_consumer = v_main.sub_consumer;
    END IF;

    UPDATE pgq.subscription
       SET sub_batch = v_batch, sub_last_tick = v_last, sub_next_tick = v_next, sub_active = now()
     WHERE sub_queue = v_main.sub_queue AND sub_consumer = v_sub.sub_consumer;
    -- (its row is locked above, so only a bug gets here: never move the consumer past a batch nobody holds)
    IF NOT FOUND THEN
        RAISE EXCEPTION 'subconsumer %.% vanished while taking batch %', i_consumer_name, i_subconsumer_name, v_batch;
    END IF;
    RETURN v_batch;
END;
$$;

CREATE OR REPLACE FUNCTION pgq_coop.next_batch_custom(
    i_queue_name text, i_consumer_name text, i_subconsumer_name text,
    i_min_lag interval, i_min_count int4, i_min_interval interval)
RETURNS bigint
LANGUAGE sql
AS $$ SELECT pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name, i_min_lag, i_min_count, i_min_interval, NULL) $$;
