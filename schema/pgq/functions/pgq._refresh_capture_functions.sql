-- pgq._refresh_capture_functions(queue_id, changed_only): internal; rewrite the generated
-- capture functions of one queue (NULL: every queue). With changed_only, only those whose table
-- no longer matches their signature, and their triggers with them (the key may have changed):
-- that is the DDL path, which holds the table's lock already. Entries of dropped tables go.
-- Returns how many functions were rewritten.
CREATE OR REPLACE FUNCTION pgq._refresh_capture_functions(i_queue_id integer, i_changed_only boolean)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    f       record;
    v_count integer := 0;
BEGIN
    FOR f IN
        SELECT c.*, q.queue_name, (SELECT true FROM pg_catalog.pg_class r WHERE r.oid = c.cf_table) AS exists
          FROM pgq.capture_function c JOIN pgq.queue q ON q.queue_id = c.cf_queue_id
         WHERE i_queue_id IS NULL OR c.cf_queue_id = i_queue_id
         ORDER BY c.cf_queue_id, c.cf_table
    LOOP
        IF f.exists IS NULL THEN
            DELETE FROM pgq.capture_function WHERE cf_queue_id = f.cf_queue_id AND cf_table = f.cf_table;
            EXECUTE 'DROP FUNCTION IF EXISTS ' || f.cf_function || '()';
        ELSIF NOT i_changed_only THEN
            PERFORM pgq._write_capture_function(f.queue_name, f.cf_table::regclass, f.cf_args, f.cf_format, f.cf_trigger_name);
            v_count := v_count + 1;
        ELSIF pgq._capture_signature(f.cf_table) IS DISTINCT FROM f.cf_signature THEN
            PERFORM pgq.generate_capture_trigger(f.queue_name, f.cf_table::regclass, f.cf_trigger_name, f.cf_args, f.cf_format);
            v_count := v_count + 1;
        END IF;
    END LOOP;
    RETURN v_count;
END;
$$;

-- pgq._queue_capture_refresh(): internal; trigger on pgq.queue: a rotation, or a change of the
-- queue's insert switch or per-transaction limit, rewrites the queue's capture functions in the
-- same transaction.
CREATE OR REPLACE FUNCTION pgq._queue_capture_refresh()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pgq._refresh_capture_functions(NEW.queue_id, false);
    RETURN NULL;
END;
$$;

-- pgq._capture_ddl(): internal; the pgq_capture_ddl event trigger: after DDL, rewrite the
-- capture functions (and triggers) of tables that changed, and forget dropped ones.
CREATE OR REPLACE FUNCTION pgq._capture_ddl()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    -- nothing to do in a database without generated capture triggers (the usual case)
    IF EXISTS (SELECT 1 FROM pgq.capture_function) THEN
        PERFORM pgq._refresh_capture_functions(NULL, true);
    END IF;
END;
$$;
