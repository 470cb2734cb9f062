-- londiste.create_trigger(queue, table, trigger_args, dest_table, node_type): the capture
-- triggers of a replicated table: `_londiste_<queue>` (row level; logutriga by default, the
-- tgflags= argument picks another kind, position or events) and `_londiste_<queue>_truncate`.
-- On a leaf the same triggers get the `deny` argument: direct writes there are refused, while
-- the replication worker (session_replication_role = replica) does not fire them.
-- A trigger whose arguments changed is recreated. ret_code 201 when triggers are not wanted.
CREATE OR REPLACE FUNCTION londiste.create_trigger(
    IN i_queue_name text, IN i_table_name text, IN i_trg_args text[], IN i_dest_table text, IN i_node_type text,
    OUT ret_code int4, OUT ret_note text, OUT trigger_name text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_arg       text;
    v_flags     text := '';
    v_args      text[] := ARRAY[i_queue_name];
    v_extra     text[] := '{}';
    v_func      text := 'pgq.logutriga';
    v_when      text := 'AFTER';
    v_events    text[] := '{}';
    v_skip      boolean := false;
    v_no_trg    boolean := false;
    v_extra1    boolean := false;
    v_oid       oid := londiste.find_table_oid(i_dest_table);
    v_skip_cnt  integer := 0;
    v_skip_name text;
    v_old_args  bytea;
    v_new_args  bytea;
    v_trunc     text := '_londiste_' || i_queue_name || '_truncate';
    v_fq        text := londiste.quote_fqname(i_dest_table);
BEGIN
    FOREACH v_arg IN ARRAY coalesce(i_trg_args, '{}') LOOP
        IF v_arg LIKE 'tgflags=%' THEN
            v_flags := v_flags || upper(substr(v_arg, 9));
        ELSIF v_arg = 'no_triggers' OR v_arg = 'virtual_table' THEN
            v_no_trg := true;
        ELSIF lower(v_arg) = 'skip' THEN
            v_skip := true;
        ELSIF v_arg NOT IN ('expect_sync', 'skip_truncate', 'merge_all', 'no_merge') THEN
            -- anything else goes to the trigger itself
            v_extra1 := v_extra1 OR v_arg LIKE 'ev_extra1=%';
            v_args := v_args || v_arg;
        END IF;
    END LOOP;
    IF v_no_trg THEN
        ret_code := 201;
        ret_note := 'Trigger not created';
        RETURN;
    END IF;
    -- events must carry the queue's table name even when the local table is called otherwise
    IF i_dest_table <> i_table_name AND NOT v_extra1 THEN
        v_args := v_args || ('ev_extra1=' || quote_literal(i_table_name));
    END IF;

    trigger_name := '_londiste_' || i_queue_name;
    IF position('B' in v_flags) > 0 THEN v_when := 'BEFORE'; END IF;
    IF position('A' in v_flags) > 0 THEN v_when := 'AFTER'; END IF;
    IF position('Q' in v_flags) > 0 THEN v_func := 'pgq.sqltriga'; END IF;
    IF position('L' in v_flags) > 0 THEN v_func := 'pgq.logutriga'; END IF;
    IF position('J' in v_flags) > 0 THEN v_func := 'pgq.jsontriga'; END IF;
    IF position('I' in v_flags) > 0 THEN v_events := v_events || 'INSERT'::text; END IF;
    IF position('U' in v_flags) > 0 THEN v_events := v_events || 'UPDATE'::text; END IF;
    IF position('D' in v_flags) > 0 THEN v_events := v_events || 'DELETE'::text; END IF;
    IF position('S' in v_flags) > 0 THEN v_skip := true; END IF;
    IF cardinality(v_events) = 0 THEN
        v_events := ARRAY['INSERT', 'UPDATE', 'DELETE'];
    END IF;
    IF i_node_type = 'leaf' THEN
        v_extra := v_extra || 'deny'::text;
    END IF;

    IF v_skip OR v_when = 'AFTER' THEN
        SELECT count(*), min(t.tgname) INTO v_skip_cnt, v_skip_name
          FROM pg_catalog.pg_trigger t
         WHERE t.tgrelid = v_oid AND position('\000SKIP\000'::bytea in t.tgargs) > 0;
    END IF;
    IF v_when = 'AFTER' AND v_skip_cnt > 0 THEN
        ret_code := 403;
        ret_note := 'AFTER trigger cannot work with SKIP trigger(s)';
        RETURN;
    END IF;
    IF v_skip THEN
        IF v_skip_cnt = 0 THEN
            -- a SKIP trigger must fire last among BEFORE triggers
            trigger_name := 'zzz_' || trigger_name;
            v_args := v_args || 'SKIP'::text;
        ELSIF v_skip_cnt = 1 THEN
            IF position('zzz_' in v_skip_name) <> 1 THEN
                EXECUTE format('ALTER TRIGGER %I ON %s RENAME TO %I', v_skip_name, v_fq, 'zzz_' || v_skip_name);
            END IF;
        ELSE
            ret_code := 405;
            ret_note := 'Multiple SKIP triggers';
            RETURN;
        END IF;
    END IF;

    v_args := v_args || v_extra;

    -- the usual case gets the generated per-table statement trigger (same events, far cheaper);
    -- SKIP, BEFORE, custom event lists and ev_type= keep the generic row trigger
    -- (a leaf has no queue of its own: its deny trigger stays generic)
    IF v_func IN ('pgq.logutriga', 'pgq.jsontriga') AND v_when = 'AFTER' AND NOT v_skip AND i_node_type <> 'leaf'
       AND cardinality(v_events) = 3
       AND pgq.generate_capture_trigger(i_queue_name, v_oid::regclass, trigger_name, v_args[2:],
                                        CASE v_func WHEN 'pgq.jsontriga' THEN 'json' ELSE 'urlenc' END) = 1
    THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, v_fq);
    ELSE
        PERFORM pgq.drop_capture_trigger(i_queue_name, v_oid::regclass, trigger_name);
        -- pg_trigger.tgargs holds each argument followed by a zero byte
        SELECT string_agg(convert_to(a, 'UTF8') || '\000'::bytea, ''::bytea ORDER BY n) INTO v_new_args
          FROM unnest(v_args) WITH ORDINALITY AS x(a, n);
        SELECT t.tgargs INTO v_old_args FROM pg_catalog.pg_trigger t WHERE t.tgrelid = v_oid AND t.tgname = trigger_name;
        IF FOUND AND v_old_args IS DISTINCT FROM v_new_args THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, v_fq);
        END IF;
        IF NOT FOUND OR v_old_args IS DISTINCT FROM v_new_args THEN
            EXECUTE format('CREATE TRIGGER %I %s %s ON %s FOR EACH ROW EXECUTE PROCEDURE %s(%s)',
                           trigger_name, v_when, array_to_string(v_events, ' OR '), v_fq, v_func,
                           (SELECT string_agg(quote_literal(a), ', ') FROM unnest(v_args) a));
        END IF;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = v_oid AND tgname = v_trunc) THEN
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE PROCEDURE pgq.sqltriga(%s)',
                       v_trunc, v_fq, (SELECT string_agg(quote_literal(a), ', ') FROM unnest(ARRAY[i_queue_name] || v_extra) a));
    END IF;
    ret_code := 200;
    ret_note := 'OK';
END;
$$;
