-- londiste.local_remove_table(queue, table): stop replicating a table on this node: triggers
-- go, state is reset, sequences owned by its serial columns stop too. On the root the table
-- leaves the queue (announced to subscribers).
CREATE OR REPLACE FUNCTION londiste.local_remove_table(
    IN i_queue_name text, IN i_table_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fq    text := londiste.make_fqname(i_table_name);
    v_tbl   record;
    v_seq   text;
    v_root  boolean := pgq_node.is_root_node(i_queue_name);
BEGIN
    SELECT local, dropped_ddl, coalesce(dest_table, table_name) AS dest INTO v_tbl
      FROM londiste.table_info WHERE queue_name = i_queue_name AND table_name = v_fq FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 400;
        ret_note := 'Table not found: ' || v_fq;
        RETURN;
    END IF;
    IF v_tbl.local THEN
        PERFORM londiste.drop_table_triggers(i_queue_name, v_fq);
        IF v_tbl.dropped_ddl IS NOT NULL THEN
            EXECUTE 'TRUNCATE ONLY ' || londiste.quote_fqname(v_tbl.dest);
            EXECUTE v_tbl.dropped_ddl;
        END IF;
        UPDATE londiste.table_info
           SET local = false, custom_snapshot = NULL, table_attrs = NULL, dropped_ddl = NULL, merge_state = NULL, dest_table = NULL
         WHERE queue_name = i_queue_name AND table_name = v_fq;
        -- a copy failure recorded for it is history now
        DELETE FROM londiste.table_error WHERE queue_name = i_queue_name AND table_name = v_fq;
        FOR v_seq IN
            SELECT n.nspname || '.' || s.relname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class s ON s.oid = pg_get_serial_sequence(londiste.quote_fqname(v_tbl.dest), a.attname)::regclass
              JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
             WHERE a.attrelid = londiste.find_table_oid(v_tbl.dest) AND a.attnum > 0 AND NOT a.attisdropped AND a.atthasdef
        LOOP
            IF EXISTS (SELECT 1 FROM londiste.seq_info WHERE queue_name = i_queue_name AND seq_name = v_seq AND local) THEN
                PERFORM londiste.local_remove_seq(i_queue_name, v_seq);
            END IF;
        END LOOP;
    ELSIF NOT v_root THEN
        ret_code := 400;
        ret_note := 'Table not registered locally: ' || v_fq;
        RETURN;
    END IF;
    IF v_root THEN
        PERFORM londiste.global_remove_table(i_queue_name, v_fq);
        PERFORM londiste.root_notify_change(i_queue_name, 'londiste.remove-table', v_fq);
    END IF;
    ret_code := 200;
    ret_note := 'Table removed: ' || v_fq;
END;
$$;
