-- pgq.force_tick(queue): make the next ticker run tick this queue at once, by pushing the event
-- sequence past ticker_max_count. Returns the current (not the new) last tick id; callers poll
-- until it changes.
CREATE OR REPLACE FUNCTION pgq.force_tick(i_queue_name text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    q   record;
    v_last  bigint;
BEGIN
    SELECT queue_id, queue_event_seq, queue_ticker_max_count INTO q
      FROM pgq.queue
     WHERE queue_name = i_queue_name AND NOT queue_external_ticker AND NOT queue_ticker_paused;
    IF FOUND THEN
        PERFORM setval(q.queue_event_seq, nextval(q.queue_event_seq) + q.queue_ticker_max_count * 2 + 1000);
    END IF;
    SELECT t.tick_id INTO v_last
      FROM pgq.tick t JOIN pgq.queue qq ON qq.queue_id = t.tick_queue
     WHERE qq.queue_name = i_queue_name
     ORDER BY t.tick_queue DESC, t.tick_id DESC LIMIT 1;
    RETURN v_last;
END;
$$;
