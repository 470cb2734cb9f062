-- pgq._write_capture_function(queue, table, args, format, trigger_name): internal; (re)writes the
-- generated capture function of pgq.generate_capture_trigger, records it in
-- pgq.capture_function and returns its name, or NULL when the arguments need the generic row
-- trigger.
--
-- The function is written for the queue and the table as they are now: the current event
-- table, the queue's insert switch and per-transaction limit and the table's name, columns and
-- key are constants in its SQL, so a statement pays for one INSERT ... SELECT and nothing else.
-- Whatever changes them rewrites it: rotation and queue settings (a trigger on pgq.queue), DDL
-- on the table (the pgq_capture_ddl event trigger). Without that event trigger (it needs a
-- superuser) the function compares the table with its own signature at every statement and
-- rewrites itself when they differ.
--
-- SECURITY DEFINER: it is also called from within a capture function, by whoever writes to
-- the table. Serialised per table: concurrent rewrites of one function would collide.
CREATE OR REPLACE FUNCTION pgq._write_capture_function(
    i_queue_name text, i_table regclass, i_args text[], i_format text, i_trigger_name text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
AS $writer$
DECLARE
    q           record;
    a           record;
    v_fn        text;
    v_body      text := '';
    v_op        text;
    v_sql       text;
    v_target    text;
    v_sig       text;
    v_join      boolean;
    v_check     text := '';
BEGIN
    SELECT queue_id, queue_cur_table, queue_data_pfx, queue_disable_insert, queue_per_tx_limit INTO q
      FROM pgq.queue WHERE queue_name = i_queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Event queue not found';
    END IF;
    IF pgq._capture_sql(i_table, i_queue_name, 'INSERT', i_args, i_format, 'x') IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(1885434727, i_table::oid::integer);
    a := pgq._trigger_args(i_args);
    v_fn := 'pgq.trg_' || i_table::oid || '_' || q.queue_id;
    v_target := q.queue_data_pfx || '_' || q.queue_cur_table;
    v_sig := pgq._capture_signature(i_table);
    -- old and new rows side by side: transition tables have no statistics, keep the planner
    -- from a nested loop over them
    v_join := a.ignore_cols IS NOT NULL OR a.backup;

    FOREACH v_op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        v_sql := pgq._capture_sql(i_table, i_queue_name, v_op, i_args, i_format, v_target);
        v_body := v_body || CASE WHEN v_op = 'INSERT' THEN '    IF' ELSE '    ELSIF' END
                  || ' TG_OP = ' || quote_literal(v_op) || E' THEN\n'
                  || CASE WHEN v_op = 'UPDATE' AND v_join
                          THEN E'        v_nestloop := current_setting(''enable_nestloop'');\n'
                               || E'        PERFORM set_config(''enable_nestloop'', ''off'', true);\n' ELSE '' END
                  || '        ' || v_sql || E';\n'
                  || CASE WHEN v_op = 'UPDATE' AND v_join
                          THEN E'        PERFORM set_config(''enable_nestloop'', v_nestloop, true);\n' ELSE '' END;
    END LOOP;
    v_body := v_body || E'    END IF;\n';

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'pgq_capture_ddl' AND evtenabled = 'A') THEN
        v_check := format(E'    IF pgq._capture_signature(TG_RELID) IS DISTINCT FROM %L THEN\n'
                          || E'        -- the table was altered since this function was written: SQL for the table as\n'
                          || E'        -- it is now (transition tables are visible to EXECUTE here), and a new function\n'
                          || E'        EXECUTE pgq._capture_sql(TG_RELID, %L, TG_OP, %L, %L, %L);\n'
                          || E'        PERFORM pgq._write_capture_function(%L, TG_RELID::regclass, %L, %L, %L);\n'
                          || E'        RETURN NULL;\n'
                          || E'    END IF;\n',
                          v_sig,
                          i_queue_name, coalesce(i_args, '{}'), i_format, v_target,
                          i_queue_name, coalesce(i_args, '{}'), i_format, i_trigger_name);
    END IF;

    EXECUTE format($f$
CREATE OR REPLACE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql AS $body$
-- written by pgq._write_capture_function for %2$s, queue %3$s, event table %4$s: do not edit
DECLARE
    v_rows      bigint;
    v_sum       bigint;
    v_nestloop  text;
BEGIN
    IF current_setting('session_replication_role') = 'local' THEN
        RETURN NULL;
    END IF;
%5$s%6$s%7$s%8$s%9$s    RETURN NULL;
END
$body$$f$,
        v_fn, i_table::text, i_queue_name, v_target,
        CASE WHEN a.deny
             THEN format(E'    RAISE EXCEPTION ''Table ''''%%'''' to queue ''''%%'''': change not allowed (%%)'', %L, %L, TG_OP;\n',
                         i_table::text, i_queue_name)
             ELSE '' END,
        CASE WHEN q.queue_disable_insert
             THEN E'    IF current_setting(''session_replication_role'') <> ''replica'' THEN\n'
                  || E'        RAISE EXCEPTION ''Insert into queue disallowed'';\n    END IF;\n'
             ELSE '' END,
        v_check,
        v_body,
        CASE WHEN q.queue_per_tx_limit IS NOT NULL
             THEN format(E'    GET DIAGNOSTICS v_rows = ROW_COUNT;\n'
                         || E'    v_sum := coalesce(nullif(current_setting(''pgq.tx_events_%1$s'', true), ''''), ''0'')::bigint + v_rows;\n'
                         || E'    IF v_sum > %2$s THEN\n'
                         || E'        RAISE EXCEPTION ''Queue ''''%%'''' allows max %% events from one TX'', %3$L, %2$s;\n'
                         || E'    END IF;\n'
                         || E'    PERFORM set_config(''pgq.tx_events_%1$s'', v_sum::text, true);\n',
                         q.queue_id, q.queue_per_tx_limit, i_queue_name)
             ELSE '' END);

    INSERT INTO pgq.capture_function (cf_queue_id, cf_table, cf_trigger_name, cf_args, cf_format, cf_function, cf_signature)
    VALUES (q.queue_id, i_table, i_trigger_name, coalesce(i_args, '{}'), i_format, v_fn, v_sig)
    ON CONFLICT (cf_queue_id, cf_table) DO UPDATE
       SET cf_trigger_name = EXCLUDED.cf_trigger_name, cf_args = EXCLUDED.cf_args, cf_format = EXCLUDED.cf_format,
           cf_function = EXCLUDED.cf_function, cf_signature = EXCLUDED.cf_signature;
    RETURN v_fn;
END;
$writer$;
