-- pgq.generate_capture_trigger(queue, table, trigger_name, args, format): the fast form of
-- logutriga (format 'urlenc') and jsontriga ('json') for one table: a generated PL/pgSQL
-- function with the event encoding written out per column as static SQL (plans cached), fired
-- once per statement with the statement's rows as transition tables and writing all their
-- events with one INSERT ... SELECT straight into the queue's current event table. Events are
-- identical to the row triggers' (same ev_type, ev_data, ev_extra*, order).
--
-- Triggers <trigger_name>_i / _u / _d (AFTER INSERT / UPDATE / DELETE, FOR EACH STATEMENT) call
-- pgq.trg_<table oid>_<queue id> (see pgq._write_capture_function for how it stays current).
-- <trigger_name>_k refuses updates of the key as the row triggers do; a row trigger whose WHEN
-- clause the executor evaluates, so unchanged keys cost no function call. Returns 1, or 0 when
-- the arguments need the generic row trigger (SKIP, ev_type=) or the server predates
-- transition tables.
CREATE OR REPLACE FUNCTION pgq.generate_capture_trigger(
    i_queue_name text, i_table regclass, i_trigger_name text, i_args text[], i_format text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_fn        text;
    v_op        text;
    v_arglist   text;
    v_keys      text[];
    -- assigned below, not here: PostgreSQL 10 refuses a default value for a record variable
    v_targs     record;
BEGIN
    IF current_setting('server_version_num')::int < 100000 THEN
        RETURN 0;
    END IF;
    v_targs := pgq._trigger_args(i_args);
    v_fn := pgq._write_capture_function(i_queue_name, i_table, i_args, i_format, i_trigger_name);
    IF v_fn IS NULL THEN
        RETURN 0;
    END IF;
    v_arglist := (SELECT string_agg(quote_literal(x), ', ') FROM unnest(ARRAY[i_queue_name] || coalesce(i_args, '{}')) x);
    FOREACH v_op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', i_trigger_name || '_' || lower(left(v_op, 1)), i_table::text);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT EXECUTE PROCEDURE %s(%s)',
                       i_trigger_name || '_' || lower(left(v_op, 1)), v_op, i_table::text,
                       CASE WHEN v_op = 'DELETE' THEN 'OLD TABLE AS old_rows'
                            -- the old images cost a copy of every row: only backup= and ignore= read them
                            WHEN v_op = 'UPDATE' AND (v_targs.backup OR v_targs.ignore_cols IS NOT NULL)
                                THEN 'NEW TABLE AS new_rows OLD TABLE AS old_rows'
                            ELSE 'NEW TABLE AS new_rows' END,
                       v_fn, v_arglist);
    END LOOP;
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', i_trigger_name || '_k', i_table::text);
    v_keys := coalesce(v_targs.pkey_cols, pgq._table_pkeys(i_table));
    IF cardinality(v_keys) > 0 THEN
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s FOR EACH ROW WHEN (%s) EXECUTE PROCEDURE pgq.trg_key_update(%s)',
                       i_trigger_name || '_k', i_table::text,
                       (SELECT string_agg(format('OLD.%1$I IS DISTINCT FROM NEW.%1$I', k), ' OR ') FROM unnest(v_keys) k),
                       v_arglist);
    END IF;
    RETURN 1;
END;
$$;

-- pgq.trg_key_update(queue, ...): the <trigger_name>_k trigger of generated capture triggers,
-- fired only for rows whose key changed, which the row triggers refuse too.
CREATE OR REPLACE FUNCTION pgq.trg_key_update()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF current_setting('session_replication_role') = 'local' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'primary key update not allowed';
END;
$$;

-- pgq.drop_capture_trigger(queue, table, trigger_name): remove what generate_capture_trigger
-- made for a table: its triggers, its function and its entry in pgq.capture_function.
CREATE OR REPLACE FUNCTION pgq.drop_capture_trigger(i_queue_name text, i_table regclass, i_trigger_name text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_sfx   text;
    v_fn    text;
BEGIN
    FOREACH v_sfx IN ARRAY ARRAY['_i', '_u', '_d', '_k'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', i_trigger_name || v_sfx, i_table::text);
    END LOOP;
    DELETE FROM pgq.capture_function f USING pgq.queue q
     WHERE q.queue_id = f.cf_queue_id AND q.queue_name = i_queue_name AND f.cf_table = i_table
    RETURNING f.cf_function INTO v_fn;
    IF v_fn IS NOT NULL THEN
        EXECUTE 'DROP FUNCTION IF EXISTS ' || v_fn || '()';
        RETURN 1;
    END IF;
    RETURN 0;
END;
$$;
