-- pgq.next_batch_custom(queue, consumer, min_lag, min_count, min_interval): open the consumer's
-- next batch, or return the one already open. batch_id is NULL when there is nothing to do yet:
-- no newer tick, the tick is younger than min_lag, or the batch would be smaller than
-- min_count events / shorter than min_interval.
--
-- pgq.next_batch_info(queue, consumer) and pgq.next_batch(queue, consumer): the same without
-- conditions; next_batch returns only the batch id.
-- pgq._consumer_position(queue, consumer): internal; where a consumer stands: its subscription,
-- its last tick (prev) and the tick closing its open batch (cur, when one is open). Raises when
-- the consumer is not subscribed or its position was rotated away.
CREATE OR REPLACE FUNCTION pgq._consumer_position(
    IN i_queue_name text, IN i_consumer_name text,
    OUT sub_queue int4, OUT sub_consumer int4, OUT sub_batch int8,
    OUT p_id int8, OUT p_time timestamptz, OUT p_seq int8,
    OUT c_id int8, OUT c_time timestamptz, OUT c_seq int8)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_last int8;
BEGIN
    SELECT sub.sub_queue, sub.sub_consumer, sub.sub_batch, sub.sub_last_tick,
           prev.tick_id, prev.tick_time, prev.tick_event_seq,
           cur.tick_id, cur.tick_time, cur.tick_event_seq
      INTO sub_queue, sub_consumer, sub_batch, v_last, p_id, p_time, p_seq, c_id, c_time, c_seq
      FROM pgq.queue q
      JOIN pgq.subscription sub ON sub.sub_queue = q.queue_id
      JOIN pgq.consumer c ON c.co_id = sub.sub_consumer
      LEFT JOIN pgq.tick prev ON prev.tick_queue = sub.sub_queue AND prev.tick_id = sub.sub_last_tick
      LEFT JOIN pgq.tick cur ON cur.tick_queue = sub.sub_queue AND cur.tick_id = sub.sub_next_tick
     WHERE q.queue_name = i_queue_name AND c.co_name = i_consumer_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Not subscriber to queue: %/%', coalesce(i_queue_name, 'NULL'), coalesce(i_consumer_name, 'NULL');
    END IF;
    IF p_id IS NULL THEN
        -- the consumer's position was rotated away: its events are gone
        RAISE EXCEPTION 'PgQ corruption: Consumer % on queue % does not see tick %',
            i_consumer_name, i_queue_name, v_last;
    END IF;
END;
$$;

-- pgq._open_batch(queue_id, consumer_id, prev_tick_id, tick_id): internal; open the consumer's
-- batch from prev_tick_id (its last tick as the caller read it) up to tick_id. NULL when another
-- session opened or finished a batch since the caller read the consumer's position: the caller
-- reads it again, so that two sessions of one consumer share one batch. (Before, the second gave
-- the same events a second batch id, and a consumer guarding against applying a batch twice
-- through pgq_ext could not tell.)
CREATE OR REPLACE FUNCTION pgq._open_batch(i_queue_id int4, i_consumer_id int4, i_prev_tick_id int8, i_tick_id int8)
RETURNS int8
LANGUAGE plpgsql
AS $$
DECLARE
    v_batch int8;
BEGIN
    -- a concurrent opener's row lock makes this wait; the WHERE is then checked on its result
    UPDATE pgq.subscription
       SET sub_batch = nextval('pgq.batch_id_seq'), sub_next_tick = i_tick_id, sub_active = now()
     WHERE sub_queue = i_queue_id AND sub_consumer = i_consumer_id
       AND sub_batch IS NULL AND sub_last_tick = i_prev_tick_id
    RETURNING sub_batch INTO v_batch;
    RETURN v_batch;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.next_batch_custom(
    IN i_queue_name text, IN i_consumer_name text,
    IN i_min_lag interval, IN i_min_count int4, IN i_min_interval interval,
    OUT batch_id int8,
    OUT cur_tick_id int8, OUT prev_tick_id int8,
    OUT cur_tick_time timestamptz, OUT prev_tick_time timestamptz,
    OUT cur_tick_event_seq int8, OUT prev_tick_event_seq int8)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    s   record;
BEGIN
    -- again when a concurrent session opened or finished a batch meanwhile (see _open_batch)
    LOOP
        SELECT * INTO s FROM pgq._consumer_position(i_queue_name, i_consumer_name);
        prev_tick_id := s.p_id;
        prev_tick_time := s.p_time;
        prev_tick_event_seq := s.p_seq;

        IF s.sub_batch IS NOT NULL THEN
            batch_id := s.sub_batch;
            cur_tick_id := s.c_id;
            cur_tick_time := s.c_time;
            cur_tick_event_seq := s.c_seq;
            RETURN;
        END IF;

        IF i_min_count IS NULL AND i_min_interval IS NULL THEN
            SELECT t.tick_id, t.tick_time, t.tick_event_seq
              INTO cur_tick_id, cur_tick_time, cur_tick_event_seq
              FROM pgq.tick t
             WHERE t.tick_queue = s.sub_queue AND t.tick_id > s.p_id
             ORDER BY t.tick_queue, t.tick_id LIMIT 1;
        ELSE
            SELECT h.next_tick_id, h.next_tick_time, h.next_tick_seq
              INTO cur_tick_id, cur_tick_time, cur_tick_event_seq
              FROM pgq.find_tick_helper(s.sub_queue, s.p_id, s.p_time, s.p_seq, i_min_count, i_min_interval) h;
        END IF;

        IF cur_tick_id IS NOT NULL AND i_min_lag IS NOT NULL AND now() - cur_tick_time < i_min_lag THEN
            cur_tick_id := NULL;
        END IF;
        IF cur_tick_id IS NULL THEN
            cur_tick_time := NULL;
            cur_tick_event_seq := NULL;
            prev_tick_id := NULL;
            prev_tick_time := NULL;
            prev_tick_event_seq := NULL;
            RETURN;
        END IF;
        batch_id := pgq._open_batch(s.sub_queue, s.sub_consumer, s.p_id, cur_tick_id);
        EXIT WHEN batch_id IS NOT NULL;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.next_batch_info(
    IN i_queue_name text, IN i_consumer_name text,
    OUT batch_id int8,
    OUT cur_tick_id int8, OUT prev_tick_id int8,
    OUT cur_tick_time timestamptz, OUT prev_tick_time timestamptz,
    OUT cur_tick_event_seq int8, OUT prev_tick_event_seq int8)
LANGUAGE sql
AS $$
    SELECT f.batch_id, f.cur_tick_id, f.prev_tick_id, f.cur_tick_time, f.prev_tick_time,
           f.cur_tick_event_seq, f.prev_tick_event_seq
      FROM pgq.next_batch_custom(i_queue_name, i_consumer_name, NULL, NULL, NULL) f
$$;

CREATE OR REPLACE FUNCTION pgq.next_batch(i_queue_name text, i_consumer_name text)
RETURNS int8
LANGUAGE sql
AS $$ SELECT f.batch_id FROM pgq.next_batch_custom(i_queue_name, i_consumer_name, NULL, NULL, NULL) f $$;

-- before 3.5.2.8, _open_batch took no position; dropped once its callers above no longer use it
DROP FUNCTION IF EXISTS pgq._open_batch(int4, int4, int8);
