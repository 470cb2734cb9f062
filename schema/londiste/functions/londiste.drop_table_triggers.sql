-- londiste.drop_table_triggers(queue, table): drop the queue's capture triggers from a table.
CREATE OR REPLACE FUNCTION londiste.drop_table_triggers(i_queue_name text, i_table_name text)
RETURNS void
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_dest  text;
    v_name  text;
    v_qarg  bytea := convert_to(i_queue_name, 'UTF8');
BEGIN
    SELECT coalesce(dest_table, table_name) INTO v_dest
      FROM londiste.table_info t WHERE t.queue_name = i_queue_name AND t.table_name = i_table_name;
    IF NOT FOUND OR londiste.find_table_oid(v_dest) IS NULL THEN
        RETURN;
    END IF;
    -- a generated capture trigger leaves a function behind too
    PERFORM pgq.drop_capture_trigger(i_queue_name, londiste.find_table_oid(v_dest)::regclass, '_londiste_' || i_queue_name);
    -- ours: a PgQ trigger function whose first argument is the queue
    FOR v_name IN
        SELECT tgname FROM pg_catalog.pg_trigger
         WHERE tgrelid = londiste.find_table_oid(v_dest)
           AND londiste.is_replica_func(tgfoid)
           AND octet_length(tgargs) > 0
           AND substring(tgargs for position('\000'::bytea in tgargs) - 1) = v_qarg
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_name, londiste.quote_fqname(v_dest));
    END LOOP;
END;
$$;
