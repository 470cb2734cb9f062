-- londiste.local_add_table(queue, table [, trigger_args [, attrs [, dest_table]]]): replicate a
-- table on this node. On the root the table joins the queue (announced to subscribers) and gets
-- its capture triggers; elsewhere it must be known from the provider, and waits for its initial
-- copy (merge_state NULL) unless expect_sync says it is in sync already.
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
        IF position('k' in londiste.find_column_types(v_dest)) < 1 THEN
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
    UPDATE londiste.table_info
       SET local = true, merge_state = v_state, table_attrs = coalesce(v_attrs, table_attrs),
           dest_table = nullif(v_dest, v_fq)
     WHERE queue_name = i_queue_name AND table_name = v_fq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lost table: %', v_fq;
    END IF;
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
