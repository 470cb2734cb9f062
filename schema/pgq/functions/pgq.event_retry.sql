-- pgq.event_retry(batch_id, event_id, retry_time | retry_seconds): postpone one event of an open
-- batch; it comes back, to this consumer only, in a batch after retry_time. Returns 1, or 0
-- when the event was already put aside for retry.
CREATE OR REPLACE FUNCTION pgq.event_retry(x_batch_id bigint, x_event_id bigint, x_retry_time timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    INSERT INTO pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner, ev_retry,
                                 ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    SELECT x_retry_time, s.sub_queue, e.ev_id, e.ev_time, NULL, s.sub_id, coalesce(e.ev_retry, 0) + 1,
           e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
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

CREATE OR REPLACE FUNCTION pgq.event_retry(x_batch_id bigint, x_event_id bigint, x_retry_seconds integer)
RETURNS integer
LANGUAGE sql SECURITY DEFINER
AS $$ SELECT pgq.event_retry(x_batch_id, x_event_id, current_timestamp + x_retry_seconds * interval '1 second') $$;
