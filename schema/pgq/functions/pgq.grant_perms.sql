-- pgq.grant_perms(queue): give a queue's tables and sequences the privileges of
-- pgq.event_template (readers read, admins write) and make its sequences readable.
CREATE OR REPLACE FUNCTION pgq.grant_perms(x_queue_name text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    q           pgq.queue%ROWTYPE;
    v_schema    text;
    v_table     text;
BEGIN
    SELECT * INTO q FROM pgq.queue WHERE queue_name = x_queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Queue not found';
    END IF;
    IF strpos(q.queue_data_pfx, '.') > 0 THEN
        v_schema := split_part(q.queue_data_pfx, '.', 1);
        v_table := substr(q.queue_data_pfx, strpos(q.queue_data_pfx, '.') + 1);
    ELSE
        v_schema := 'public';
        v_table := q.queue_data_pfx;
    END IF;

    EXECUTE 'GRANT SELECT ON ' || pgq.quote_fqname(q.queue_tick_seq) || ' TO public';
    EXECUTE 'GRANT SELECT ON ' || pgq.quote_fqname(q.queue_event_seq) || ' TO public';
    EXECUTE 'GRANT USAGE ON ' || pgq.quote_fqname(q.queue_event_seq) || ' TO pgq_admin';
    -- generated capture triggers insert straight into the current table as the writing role,
    -- which therefore needs pgq_writer (as for the row triggers, which call pgq.insert_event)
    EXECUTE 'GRANT USAGE ON ' || pgq.quote_fqname(q.queue_event_seq) || ' TO pgq_writer';

    PERFORM pgq._grant_perms_from('pgq', 'event_template', v_schema, v_table);
    FOR i IN 0 .. q.queue_ntables - 1 LOOP
        PERFORM pgq._grant_perms_from('pgq', 'event_template', v_schema, v_table || '_' || i);
        EXECUTE 'GRANT INSERT ON ' || pgq.quote_fqname(q.queue_data_pfx || '_' || i) || ' TO pgq_writer';
    END LOOP;
    RETURN 1;
END;
$$;

-- pgq._grant_perms_from(src_schema, src_table, dst_schema, dst_table): copy table privileges,
-- as CREATE TABLE ... LIKE cannot.
CREATE OR REPLACE FUNCTION pgq._grant_perms_from(src_schema text, src_table text, dst_schema text, dst_table text)
RETURNS integer
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT p.privilege_type, p.grantee, p.is_grantable
          FROM information_schema.table_privileges p
         WHERE p.table_schema = src_schema AND p.table_name = src_table
    LOOP
        EXECUTE 'GRANT ' || g.privilege_type
             || ' ON ' || quote_ident(dst_schema) || '.' || quote_ident(dst_table)
             || ' TO ' || CASE WHEN g.grantee = 'PUBLIC' THEN 'public' ELSE quote_ident(g.grantee) END
             || CASE WHEN g.is_grantable = 'YES' THEN ' WITH GRANT OPTION' ELSE '' END;
    END LOOP;
    RETURN 1;
END;
$$;
