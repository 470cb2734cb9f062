-- pgq.maint_retry_events(): move due events from the retry queue back into their queues, at
-- most 10 per call so each call stays short; the caller repeats while it returns > 0.
CREATE OR REPLACE FUNCTION pgq.maint_retry_events()
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    r       record;
    v_count integer := 0;
BEGIN
    -- one mover at a time; producers and consumers are not blocked
    LOCK TABLE pgq.retry_queue IN SHARE UPDATE EXCLUSIVE MODE;
    FOR r IN
        SELECT q.queue_name, rq.ev_id, rq.ev_time, rq.ev_owner, rq.ev_retry, rq.ev_type, rq.ev_data,
               rq.ev_extra1, rq.ev_extra2, rq.ev_extra3, rq.ev_extra4
          FROM pgq.retry_queue rq JOIN pgq.queue q ON q.queue_id = rq.ev_queue
         WHERE rq.ev_retry_after <= current_timestamp
         ORDER BY rq.ev_retry_after
         LIMIT 10
    LOOP
        PERFORM pgq.insert_event_raw(r.queue_name, r.ev_id, r.ev_time, r.ev_owner, r.ev_retry,
                                     r.ev_type, r.ev_data, r.ev_extra1, r.ev_extra2, r.ev_extra3, r.ev_extra4);
        DELETE FROM pgq.retry_queue WHERE ev_owner = r.ev_owner AND ev_id = r.ev_id;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;
