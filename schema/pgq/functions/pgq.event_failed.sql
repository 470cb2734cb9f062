-- pgq.event_failed(batch_id, event_id, reason): the consumer gives up on an event of its open
-- batch: it is kept in pgq.failed_queue with the reason (until pgq.failed_event_retry or
-- pgq.failed_event_delete) instead of being lost when the batch finishes. Call it in the
-- transaction that finishes the batch. Returns 1, or 0 when the event was recorded already.
CREATE OR REPLACE FUNCTION pgq.event_failed(x_batch_id bigint, x_event_id bigint, x_reason text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    INSERT INTO pgq.failed_queue (ev_failed_reason, ev_failed_time, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                                  ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    SELECT coalesce(x_reason, ''), current_timestamp, s.sub_queue, e.ev_id, e.ev_time, e.ev_txid, s.sub_id,
           e.ev_retry, e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
      FROM pgq.subscription s, pgq.get_batch_events(x_batch_id) e
     WHERE s.sub_batch = x_batch_id AND e.ev_id = x_event_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event not found';
    END IF;
    RETURN 1;
EXCEPTION
    WHEN unique_violation THEN
        RETURN 0;
END;
$$;
