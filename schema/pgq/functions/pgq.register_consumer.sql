-- pgq.register_consumer(queue, consumer): subscribe a consumer to a queue, starting at the
-- queue's newest tick. Returns 1 when subscribed now, 0 when it already was.
--
-- pgq.register_consumer_at(queue, consumer, tick_id): the same, starting at a given tick; an
-- existing subscription is moved to that tick (its open batch is forgotten).
CREATE OR REPLACE FUNCTION pgq.register_consumer_at(x_queue_name text, x_consumer_name text, x_tick_pos bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_queue_id  integer;
    v_co_id     integer;
    v_start     bigint := x_tick_pos;
BEGIN
    SELECT queue_id INTO v_queue_id FROM pgq.queue WHERE queue_name = x_queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Event queue not created yet';
    END IF;

    -- one registration of a consumer name at a time: two sessions registering it at once
    -- (sub-consumers starting together) both found no row and both inserted it, the second
    -- failing on consumer_name_uq; now the second waits for the first and finds its rows
    PERFORM pg_advisory_xact_lock(hashtext('pgq.register_consumer'), hashtext(x_consumer_name));

    -- consumer names are shared between queues; lock the row so a concurrent unregister
    -- cannot delete it under us
    SELECT co_id INTO v_co_id FROM pgq.consumer WHERE co_name = x_consumer_name FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO pgq.consumer (co_name) VALUES (x_consumer_name) RETURNING co_id INTO v_co_id;
    END IF;

    IF v_start IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pgq.tick WHERE tick_queue = v_queue_id AND tick_id = v_start)
    THEN
        RAISE EXCEPTION 'cannot reposition, tick not found: %', v_start;
    END IF;

    IF EXISTS (SELECT 1 FROM pgq.subscription WHERE sub_queue = v_queue_id AND sub_consumer = v_co_id) THEN
        IF v_start IS NOT NULL THEN
            UPDATE pgq.subscription
               SET sub_last_tick = v_start, sub_batch = NULL, sub_next_tick = NULL, sub_active = now()
             WHERE sub_queue = v_queue_id AND sub_consumer = v_co_id;
        END IF;
        RETURN 0;
    END IF;

    IF v_start IS NULL THEN
        SELECT tick_id INTO v_start
          FROM pgq.tick WHERE tick_queue = v_queue_id
         ORDER BY tick_queue DESC, tick_id DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'No ticks for this queue.  Please run ticker on database.';
        END IF;
    END IF;

    INSERT INTO pgq.subscription (sub_queue, sub_consumer, sub_last_tick)
    VALUES (v_queue_id, v_co_id, v_start);
    RETURN 1;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.register_consumer(x_queue_name text, x_consumer_id text)
RETURNS integer
LANGUAGE sql SECURITY DEFINER
AS $$ SELECT pgq.register_consumer_at(x_queue_name, x_consumer_id, NULL) $$;
