-- pgq.insert_event_raw(queue, ev_id, ev_time, owner, retry, type, data, extra1..4):
-- the one place events enter a queue's current table. ev_id NULL takes the queue's sequence;
-- owner/retry are set only when the retry maintenance re-inserts a postponed event.
CREATE OR REPLACE FUNCTION pgq.insert_event_raw(
    queue_name text, ev_id bigint, ev_time timestamptz,
    ev_owner integer, ev_retry integer, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    q       record;
    v_id    bigint := ev_id;
    v_count integer;
BEGIN
    -- the sequence moves even when the id is given or the insert is then refused, as upstream:
    -- the ticker sees new events by it, and upstream's event ids come out the same
    SELECT queue_id, queue_data_pfx, queue_cur_table, nextval(queue_event_seq) AS next_id, queue_disable_insert, queue_per_tx_limit
      INTO q
      FROM pgq.queue WHERE pgq.queue.queue_name = insert_event_raw.queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Event queue not found';
    END IF;
    IF q.queue_disable_insert AND current_setting('session_replication_role') <> 'replica' THEN
        RAISE EXCEPTION 'Insert into queue disallowed';
    END IF;
    IF q.queue_per_tx_limit IS NOT NULL THEN
        -- a transaction-local setting counts this transaction's events; it vanishes at commit
        v_count := coalesce(nullif(current_setting('pgq.tx_events_' || q.queue_id, true), ''), '0')::integer + 1;
        IF v_count > q.queue_per_tx_limit THEN
            RAISE EXCEPTION 'Queue ''%'' allows max % events from one TX', insert_event_raw.queue_name, q.queue_per_tx_limit;
        END IF;
        PERFORM set_config('pgq.tx_events_' || q.queue_id, v_count::text, true);
    END IF;
    IF v_id IS NULL THEN
        v_id := q.next_id;
    END IF;
    EXECUTE 'INSERT INTO ' || pgq.quote_fqname(q.queue_data_pfx || '_' || q.queue_cur_table)
         || ' (ev_id, ev_time, ev_owner, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
         || ' VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)'
      USING v_id, ev_time, ev_owner, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4;
    RETURN v_id;
END;
$$;
