-- pgq.batch_retry(batch_id, retry_seconds): postpone every event of an open batch that is not
-- postponed already. Returns how many events were put aside.
CREATE OR REPLACE FUNCTION pgq.batch_retry(i_batch_id bigint, i_retry_seconds integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    s       record;
    v_count integer;
BEGIN
    SELECT sub_id, sub_queue INTO s FROM pgq.subscription WHERE sub_batch = i_batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch_retry: batch % not found', i_batch_id;
    END IF;
    INSERT INTO pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner, ev_retry,
                                 ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    SELECT DISTINCT current_timestamp + i_retry_seconds * interval '1 second', s.sub_queue,
           e.ev_id, e.ev_time, NULL::int8, s.sub_id, coalesce(e.ev_retry, 0) + 1,
           e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
      FROM pgq.get_batch_events(i_batch_id) e
     WHERE NOT EXISTS (SELECT 1 FROM pgq.retry_queue r
                        WHERE r.ev_owner = s.sub_id AND r.ev_id = e.ev_id AND r.ev_queue = s.sub_queue);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END;
$$;
