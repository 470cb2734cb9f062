-- pgq.unregister_consumer(queue, consumer): drop a subscription with its pending retry and failed events.
-- The consumer name itself goes away once no queue uses it. Returns the number of
-- subscriptions removed (0 when there was none).
CREATE OR REPLACE FUNCTION pgq.unregister_consumer(x_queue_name text, x_consumer_name text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_sub       record;
    v_shared    integer;
BEGIN
    SELECT s.sub_id, s.sub_queue, c.co_id,
           -- a cooperative sub-consumer shares sub_id with its parent and either has no
           -- position of its own or an open batch
           (s.sub_last_tick IS NULL) = (s.sub_next_tick IS NULL) AS is_sub
      INTO v_sub
      FROM pgq.subscription s
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
     WHERE q.queue_name = x_queue_name AND c.co_name = x_consumer_name
       FOR UPDATE OF s, c;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    SELECT count(*) INTO v_shared FROM pgq.subscription WHERE sub_id = v_sub.sub_id;

    IF v_shared > 1 AND v_sub.is_sub THEN
        DELETE FROM pgq.subscription WHERE sub_id = v_sub.sub_id AND sub_consumer = v_sub.co_id;
        RETURN 1;
    END IF;

    DELETE FROM pgq.retry_queue WHERE ev_owner = v_sub.sub_id;
    DELETE FROM pgq.failed_queue WHERE ev_owner = v_sub.sub_id;
    DELETE FROM pgq.subscription WHERE sub_id = v_sub.sub_id;
    IF NOT EXISTS (SELECT 1 FROM pgq.subscription WHERE sub_consumer = v_sub.co_id) THEN
        DELETE FROM pgq.consumer WHERE co_id = v_sub.co_id;
    END IF;
    RETURN v_shared;
END;
$$;
