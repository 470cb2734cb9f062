-- The failed events of a consumer (pgq.event_failed): list, count, delete one, or send one back
-- to the consumer through the retry queue (pgqd's retry maintenance re-inserts it, with its retry
-- count up by one). A sub-consumer (pgq_coop) shares its consumer's failed events.

-- pgq.failed_event_list(queue, consumer [, count, offset]): oldest failure first.
CREATE OR REPLACE FUNCTION pgq.failed_event_list(x_queue_name text, x_consumer_name text, x_count integer, x_offset integer)
RETURNS SETOF pgq.failed_queue
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT f.*
      FROM pgq.failed_queue f
      JOIN pgq.subscription s ON s.sub_id = f.ev_owner AND s.sub_queue = f.ev_queue
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
     WHERE q.queue_name = x_queue_name AND c.co_name = x_consumer_name
     ORDER BY f.ev_failed_time, f.ev_id
     LIMIT x_count OFFSET coalesce(x_offset, 0)
$$;

CREATE OR REPLACE FUNCTION pgq.failed_event_list(x_queue_name text, x_consumer_name text)
RETURNS SETOF pgq.failed_queue
LANGUAGE sql STABLE
AS $$ SELECT * FROM pgq.failed_event_list(x_queue_name, x_consumer_name, NULL, 0) $$;

-- pgq.failed_event_count(queue, consumer)
CREATE OR REPLACE FUNCTION pgq.failed_event_count(x_queue_name text, x_consumer_name text)
RETURNS integer
LANGUAGE sql STABLE
AS $$ SELECT count(*)::integer FROM pgq.failed_event_list(x_queue_name, x_consumer_name, NULL, 0) $$;

-- pgq.failed_event_delete(queue, consumer, event_id): forget a failed event; 1, or 0 when there was none.
CREATE OR REPLACE FUNCTION pgq.failed_event_delete(x_queue_name text, x_consumer_name text, x_event_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    DELETE FROM pgq.failed_queue f
     USING pgq.subscription s, pgq.queue q, pgq.consumer c
     WHERE s.sub_id = f.ev_owner AND s.sub_queue = f.ev_queue AND q.queue_id = s.sub_queue AND c.co_id = s.sub_consumer
       AND q.queue_name = x_queue_name AND c.co_name = x_consumer_name AND f.ev_id = x_event_id;
    RETURN CASE WHEN FOUND THEN 1 ELSE 0 END;
END;
$$;

-- pgq.failed_event_retry(queue, consumer, event_id): back to the consumer through the retry
-- queue, due now; the event id, or NULL when there was no such failed event (or it waits for
-- retry already).
CREATE OR REPLACE FUNCTION pgq.failed_event_retry(x_queue_name text, x_consumer_name text, x_event_id bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_owner     integer;
BEGIN
    WITH gone AS (
        DELETE FROM pgq.failed_queue f
         USING pgq.subscription s, pgq.queue q, pgq.consumer c
         WHERE s.sub_id = f.ev_owner AND s.sub_queue = f.ev_queue AND q.queue_id = s.sub_queue AND c.co_id = s.sub_consumer
           AND q.queue_name = x_queue_name AND c.co_name = x_consumer_name AND f.ev_id = x_event_id
        RETURNING f.*
    )
    INSERT INTO pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner, ev_retry,
                                 ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
    SELECT current_timestamp, g.ev_queue, g.ev_id, g.ev_time, NULL, g.ev_owner, coalesce(g.ev_retry, 0) + 1,
           g.ev_type, g.ev_data, g.ev_extra1, g.ev_extra2, g.ev_extra3, g.ev_extra4
      FROM gone g
    RETURNING ev_owner INTO v_owner;
    RETURN CASE WHEN v_owner IS NULL THEN NULL ELSE x_event_id END;
EXCEPTION
    WHEN unique_violation THEN
        RETURN NULL;
END;
$$;
