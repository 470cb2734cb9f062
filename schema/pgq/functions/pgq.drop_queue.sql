-- pgq.drop_queue(queue_name, force): drop a queue and its tables, ticks and sequences.
-- Without force, refuses while consumers are subscribed; with force, unregisters them first.
CREATE OR REPLACE FUNCTION pgq.drop_queue(x_queue_name text, x_force bool)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    q pgq.queue%ROWTYPE;
    f record;
BEGIN
    SELECT * INTO q FROM pgq.queue WHERE queue_name = x_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'No such event queue';
    END IF;

    IF x_force THEN
        PERFORM pgq.unregister_consumer(x_queue_name, c.co_name)
           FROM pgq.subscription s JOIN pgq.consumer c ON c.co_id = s.sub_consumer
          WHERE s.sub_queue = q.queue_id;
    ELSIF EXISTS (SELECT 1 FROM pgq.subscription WHERE sub_queue = q.queue_id) THEN
        RAISE EXCEPTION 'cannot drop queue, consumers still attached';
    END IF;

    -- generated capture triggers write into the tables about to go: they go first
    FOR f IN SELECT * FROM pgq.capture_function WHERE cf_queue_id = q.queue_id LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = f.cf_table) THEN
            PERFORM pgq.drop_capture_trigger(x_queue_name, f.cf_table::regclass, f.cf_trigger_name);
        END IF;
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f.cf_function || '()';
    END LOOP;
    DELETE FROM pgq.capture_function WHERE cf_queue_id = q.queue_id;

    FOR i IN 0 .. q.queue_ntables - 1 LOOP
        EXECUTE 'DROP TABLE ' || pgq.quote_fqname(q.queue_data_pfx || '_' || i);
    END LOOP;
    EXECUTE 'DROP TABLE ' || pgq.quote_fqname(q.queue_data_pfx);

    DELETE FROM pgq.retry_queue WHERE ev_queue = q.queue_id;
    DELETE FROM pgq.failed_queue WHERE ev_queue = q.queue_id;
    DELETE FROM pgq.tick WHERE tick_queue = q.queue_id;
    EXECUTE 'DROP SEQUENCE ' || pgq.quote_fqname(q.queue_tick_seq);
    EXECUTE 'DROP SEQUENCE ' || pgq.quote_fqname(q.queue_event_seq);
    DELETE FROM pgq.queue WHERE queue_id = q.queue_id;
    RETURN 1;
END;
$$;

-- pgq.drop_queue(queue_name): same, refusing while consumers are subscribed.
CREATE OR REPLACE FUNCTION pgq.drop_queue(x_queue_name text)
RETURNS integer
LANGUAGE sql STRICT
AS $$ SELECT pgq.drop_queue(x_queue_name, false) $$;
