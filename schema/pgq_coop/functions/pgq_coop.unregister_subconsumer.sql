-- pgq_coop.unregister_subconsumer(queue, consumer, subconsumer, batch_handling): drop a
-- sub-consumer. With a batch open, batch_handling 0 refuses ('subconsumer has active batch') and
-- 1 drops it with the sub-consumer: its events are then lost to the main consumer, which has
-- moved past them. Returns 1 when unregistered, 0 when there was no such sub-consumer.
CREATE OR REPLACE FUNCTION pgq_coop.unregister_subconsumer(i_queue_name text, i_consumer_name text, i_subconsumer_name text, i_batch_handling integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_sub       record;
BEGIN
    SELECT s.sub_queue, s.sub_consumer, s.sub_batch INTO v_sub
      FROM pgq.subscription s
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
     WHERE q.queue_name = i_queue_name AND c.co_name = i_consumer_name || '.' || i_subconsumer_name
       FOR UPDATE OF s;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF v_sub.sub_batch IS NOT NULL AND i_batch_handling IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION 'subconsumer has active batch';
    END IF;
    DELETE FROM pgq.subscription WHERE sub_queue = v_sub.sub_queue AND sub_consumer = v_sub.sub_consumer;
    RETURN 1;
END;
$$;
