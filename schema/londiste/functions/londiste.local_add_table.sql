-- londiste.local_add_table(queue, table [, trigger_args [, attrs [, dest_table]]]): replicate a
-- table on this node. On the root the table joins the queue (announced to subscribers) and gets
-- its capture triggers; elsewhere it must be known from the provider, and waits for its initial
-- copy (merge_state NULL) unless expect_sync says it is in sync already.
-- On a leaf, a table that other source queues also feed (queues sharing this node's combined
-- queue, or none, with the same local table) needs merge_all (it becomes local in all of them:
-- their copies are coordinated by londiste._coordinate_copy) or no_merge (this queue only); a
-- leaf merging into a combined root or branch adds the table there too.
-- Trigger arguments: expect_sync, skip_truncate, merge_all, no_merge, virtual_table,
-- no_triggers, tgflags=..., and anything else is passed to the trigger.
CREATE OR REPLACE FUNCTION londiste.local_add_table(
    IN i_queue_name text, IN i_table_name text, IN i_trg_args text[], IN i_table_attrs text, IN i_dest_table text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_arg           text;
    v_attrs         text := i_table_attrs;
    v_expect_sync   boolean := false;
    v_merge_all     boolean := false;
    v_no_merge      boolean := false;
    v_virtual       boolean := false;
    v_fq            text := londiste.make_fqname(i_table_name);
    v_dest          text := londiste.make_fqname(coalesce(i_dest_table, i_table_name));
    v_desc          text;
    v_node          record;
    v_tbl           record;
    v_state         text;
    v_trg           record;
    v_before        text;
    v_part          record;
    v_parts         text[] := '{}';
    v_combined      record;
BEGIN
    FOREACH v_arg IN ARRAY coalesce(i_trg_args, '{}') LOOP
        IF v_arg = 'expect_sync' THEN
            v_expect_sync := true;
        ELSIF v_arg = 'skip_truncate' THEN
            v_attrs := coalesce(v_attrs || '&skip_truncate=1', 'skip_truncate=1');
        ELSIF v_arg = 'merge_all' THEN
            v_merge_all := true;
        ELSIF v_arg = 'no_merge' THEN
            v_no_merge := true;
        ELSIF v_arg = 'virtual_table' THEN
            v_virtual := true;
            v_expect_sync := true;
        END IF;
    END LOOP;
    IF v_merge_all AND v_no_merge THEN
        ret_code := 405;
        ret_note := 'Cannot use merge-all and no-merge together';
        RETURN;
    END IF;
    v_desc := CASE WHEN v_dest = v_fq THEN v_fq ELSE v_fq || '(' || v_dest || ')' END;

    IF NOT v_virtual THEN
        IF londiste.find_table_oid(v_dest) IS NULL THEN
            ret_code := 404;
            ret_note := 'Table does not exist: ' || v_desc;
            RETURN;
        END IF;
        -- a merged table's lead drops its primary key during the copy: that is no reason to refuse
        IF position('k' in londiste.find_column_types(v_dest)) < 1
           AND NOT EXISTS (SELECT 1
                             FROM pgq_node.node_info me
                             JOIN pgq_node.node_info other ON other.combined_queue = me.combined_queue AND other.queue_name <> me.queue_name
                             JOIN londiste.table_info t ON t.queue_name = other.queue_name
                            WHERE me.queue_name = i_queue_name
                              AND coalesce(t.dest_table, t.table_name) = v_dest AND t.dropped_ddl IS NOT NULL) THEN
            ret_code := 400;
            ret_note := 'Primary key missing on table: ' || v_desc;
            RETURN;
        END IF;
    END IF;

    SELECT * INTO v_node FROM pgq_node.get_node_info(i_queue_name);
    IF v_node.ret_code >= 400 THEN
        ret_code := 400;
        ret_note := 'No such set: ' || i_queue_name;
        RETURN;
    END IF;

    SELECT local, table_attrs INTO v_tbl FROM londiste.table_info WHERE queue_name = i_queue_name AND table_name = v_fq;
    IF NOT FOUND THEN
        IF v_node.node_type <> 'root' THEN
            ret_code := 404;
            ret_note := 'Table not available on queue: ' || v_desc;
            RETURN;
        END IF;
        SELECT f.ret_code, f.ret_note INTO ret_code, ret_note FROM londiste.global_add_table(i_queue_name, i_table_name) f;
        IF ret_code <> 200 THEN
            RETURN;
        END IF;
        v_tbl := NULL;
    ELSIF v_tbl.local THEN
        IF v_tbl.table_attrs IS DISTINCT FROM v_attrs THEN
            ret_code := 410;
            ret_note := 'Table ' || v_desc || ' already added, but with different args: ' || coalesce(v_tbl.table_attrs, '');
        ELSE
            ret_code := 200;
            ret_note := 'Table already added: ' || v_desc;
        END IF;
        RETURN;
    END IF;

    IF v_node.node_type = 'root' THEN
        v_state := 'ok';
        PERFORM londiste.root_notify_change(i_queue_name, 'londiste.add-table', v_fq);
    ELSIF (v_node.node_type = 'leaf' AND v_node.combined_type = 'branch') OR v_expect_sync THEN
        v_state := 'ok';
    ELSE
        v_state := NULL;
    END IF;
    -- the other sources of the same local table, checked before anything changes
    IF v_node.node_type = 'leaf' AND NOT v_no_merge THEN
        FOR v_part IN
            SELECT p.queue_name, p.table_name, p.local
              FROM pgq_node.node_info me
              JOIN pgq_node.node_info other ON other.combined_queue IS NOT DISTINCT FROM me.combined_queue
              JOIN londiste.table_info p ON p.queue_name = other.queue_name
             WHERE me.queue_name = i_queue_name AND other.queue_name <> i_queue_name
               AND coalesce(p.dest_table, p.table_name) = v_dest
             ORDER BY p.queue_name
        LOOP
            IF v_state IS DISTINCT FROM 'ok' THEN
                IF v_part.local THEN
                    ret_code := 405;
                    ret_note := 'Found local table ' || v_desc || ' in queue ' || v_part.queue_name
                                || ', use remove-table first to remove all previous table subscriptions';
                    RETURN;
                ELSIF NOT v_merge_all THEN
                    ret_code := 405;
                    ret_note := 'Found multiple sources for table ' || v_desc || ', use merge-all or no-merge to continue';
                    RETURN;
                END IF;
            END IF;
            v_parts := v_parts || array[v_part.queue_name, v_part.table_name];
        END LOOP;
    END IF;

    -- a leaf merging into a combined root or branch: the table joins the combined queue too,
    -- first (a refusal there leaves this queue's table as it was; a warning is no refusal)
    IF v_node.node_type = 'leaf' AND NOT v_no_merge THEN
        SELECT c.queue_name, t.local INTO v_combined
          FROM pgq_node.node_info me
          JOIN pgq_node.node_info c ON c.queue_name = me.combined_queue AND c.node_type IN ('root', 'branch')
          LEFT JOIN londiste.table_info t ON t.queue_name = c.queue_name AND t.table_name = v_fq
         WHERE me.queue_name = i_queue_name;
        IF FOUND AND v_combined.local IS NOT TRUE THEN
            SELECT f.ret_code, f.ret_note INTO ret_code, ret_note
              FROM londiste.local_add_table(v_combined.queue_name, v_fq, i_trg_args, v_attrs, v_dest) f;
            IF ret_code >= 400 THEN
                RETURN;
            END IF;
        END IF;
    END IF;

    UPDATE londiste.table_info
       SET local = true, merge_state = v_state, table_attrs = coalesce(v_attrs, table_attrs),
           dest_table = nullif(v_dest, v_fq)
     WHERE queue_name = i_queue_name AND table_name = v_fq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lost table: %', v_fq;
    END IF;
    FOR i IN 1 .. coalesce(array_length(v_parts, 1), 0) / 2 LOOP
        UPDATE londiste.table_info
           SET local = true, merge_state = v_state, table_attrs = coalesce(v_attrs, table_attrs)
         WHERE queue_name = v_parts[2 * i - 1] AND table_name = v_parts[2 * i];
        IF v_state IS NULL THEN
            PERFORM pg_notify('londiste_tables', v_parts[2 * i - 1]);
        END IF;
    END LOOP;

    -- the node's worker starts the copy at once instead of at its next look (delivered at commit)
    IF v_state IS NULL THEN
        PERFORM pg_notify('londiste_tables', i_queue_name);
    END IF;

    IF v_virtual THEN
        ret_code := 200;
        ret_note := 'Table added with no triggers: ' || v_desc;
        RETURN;
    END IF;
    SELECT * INTO v_trg FROM londiste.create_trigger(i_queue_name, v_fq, i_trg_args, v_dest, v_node.node_type);
    IF v_trg.ret_code > 299 THEN
        ret_code := v_trg.ret_code;
        ret_note := 'Trigger creation failed for table ' || v_desc || ': ' || v_trg.ret_note;
        RETURN;
    ELSIF v_trg.ret_code = 201 THEN
        ret_code := 200;
        ret_note := 'Table added with no triggers: ' || v_desc;
        RETURN;
    END IF;

    -- other BEFORE row triggers sorting before ours would see rows londiste has not logged yet
    SELECT tg.tgname INTO v_before
      FROM pg_catalog.pg_trigger tg
     WHERE tg.tgrelid = londiste.find_table_oid(v_dest) AND NOT tg.tgisinternal
       AND tg.tgname < v_trg.trigger_name::name AND (tg.tgtype & 3) = 1
       AND NOT londiste.is_replica_func(tg.tgfoid)
       AND substring(tg.tgname from 1 for 10) <> '_londiste_'
       AND tg.tgname NOT LIKE '%\_logger'
     ORDER BY 1 LIMIT 1;
    IF v_before IS NOT NULL THEN
        ret_code := 301;
        ret_note := 'Table added: ' || v_desc || ', but londiste trigger is not first: ' || v_before;
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Table added: ' || v_desc;
END;
$$;

CREATE OR REPLACE FUNCTION londiste.local_add_table(
    IN i_queue_name text, IN i_table_name text, IN i_trg_args text[], IN i_table_attrs text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE sql
AS $$ SELECT * FROM londiste.local_add_table(i_queue_name, i_table_name, i_trg_args, i_table_attrs, NULL) $$;

CREATE OR REPLACE FUNCTION londiste.local_add_table(
    IN i_queue_name text, IN i_table_name text, IN i_trg_args text[],
    OUT ret_code int4, OUT ret_note text)
LANGUAGE sql
AS $$ SELECT * FROM londiste.local_add_table(i_queue_name, i_table_name, i_trg_args, NULL, NULL) $$;

CREATE OR REPLACE FUNCTION londiste.local_add_table(
    IN i_queue_name text, IN i_table_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE sql STRICT
AS $$ SELECT * FROM londiste.local_add_table(i_queue_name, i_table_name, NULL, NULL, NULL) $$;
