-- pgq_coop.register_subconsumer(queue, consumer, subconsumer): subscribe a sub-consumer, a
-- consumer named "consumer.subconsumer" that shares the main consumer's sub_id (so it sees the
-- main consumer's retried events) and keeps no position of its own: its batches are cut from the
-- main consumer's. The main consumer is registered first when it is not.
-- Returns 1 for a new registration, 0 when it was registered already.
CREATE OR REPLACE FUNCTION pgq_coop.register_subconsumer(i_queue_name text, i_consumer_name text, i_subconsumer_name text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_name      text := i_consumer_name || '.' || i_subconsumer_name;
    v_new       integer;
    v_main      record;
BEGIN
    PERFORM pgq.register_consumer(i_queue_name, i_consumer_name);
    v_new := pgq.register_consumer(i_queue_name, v_name);
    IF v_new = 1 THEN
        SELECT s.sub_queue, s.sub_id INTO v_main
          FROM pgq.subscription s
          JOIN pgq.queue q ON q.queue_id = s.sub_queue
          JOIN pgq.consumer c ON c.co_id = s.sub_consumer
         WHERE q.queue_name = i_queue_name AND c.co_name = i_consumer_name;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'main consumer not found';
        END IF;
        UPDATE pgq.subscription s
           SET sub_id = v_main.sub_id, sub_last_tick = NULL, sub_next_tick = NULL
          FROM pgq.consumer c
         WHERE s.sub_queue = v_main.sub_queue AND c.co_id = s.sub_consumer AND c.co_name = v_name;
    END IF;
    RETURN v_new;
END;
$$;
