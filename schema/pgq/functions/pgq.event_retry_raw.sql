-- pgq.event_retry_raw(queue, consumer, retry_after, ev_id, ev_time, ev_retry, ev_type, ev_data,
-- ev_extra1..4): put an arbitrary event into a consumer's retry queue (used by cascaded
-- consumers that keep their own failed events). ev_id NULL takes a new id from the queue.
-- Returns the event id.
CREATE OR REPLACE FUNCTION pgq.event_retry_raw(
    x_queue text, x_consumer text, x_retry_after timestamptz,
    x_ev_id bigint, x_ev_time timestamptz, x_ev_retry integer,
    x_ev_type text, x_ev_data text,
    x_ev_extra1 text, x_ev_extra2 text, x_ev_extra3 text, x_ev_extra4 text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    s       record;
    v_id    bigint := x_ev_id;
BEGIN
    SELECT sub.sub_id, sub.sub_queue, q.queue_event_seq INTO s
      FROM pgq.subscription sub
      JOIN pgq.queue q ON q.queue_id = sub.sub_queue
      JOIN pgq.consumer c ON c.co_id = sub.sub_consumer
     WHERE q.queue_name = x_queue AND c.co_name = x_consumer;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'consumer not registered';
    END IF;
    IF v_id IS NULL THEN
        v_id := nextval(s.queue_event_seq);
    END IF;
    INSERT INTO pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_owner, ev_retry,
                                 ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    VALUES (x_retry_after, s.sub_queue, v_id, x_ev_time, s.sub_id, x_ev_retry,
            x_ev_type, x_ev_data, x_ev_extra1, x_ev_extra2, x_ev_extra3, x_ev_extra4);
    RETURN v_id;
END;
$$;
