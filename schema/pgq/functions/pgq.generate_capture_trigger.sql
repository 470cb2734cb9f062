-- pgq.generate_capture_trigger(queue, table, trigger_name, args, format): the fast form of
-- logutriga (format 'urlenc') and jsontriga ('json') for one table: a generated PL/pgSQL
-- function with the event encoding written out per column as static SQL (plans cached), fired
-- once per statement with the statement's rows as transition tables and writing all their
-- events with one INSERT ... SELECT straight into the queue's current event table. Events are
-- identical to the row triggers' (same ev_type, ev_data, ev_extra*, order).
--
-- Triggers <trigger_name>_i / _u / _d (AFTER INSERT / UPDATE / DELETE, FOR EACH STATEMENT) call
-- pgq.trg_<table oid>_<queue id>. When the table's columns change, the function notices at the
-- next statement (one catalog lookup per statement), handles that statement with freshly built
-- SQL and regenerates itself. Returns 1, or 0 when the arguments need the generic row trigger
-- (SKIP, ev_type=) or the server predates transition tables.
CREATE OR REPLACE FUNCTION pgq.generate_capture_trigger(
    i_queue_name text, i_table regclass, i_trigger_name text, i_args text[], i_format text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_fn        text;
    v_op        text;
    v_arglist   text;
BEGIN
    IF current_setting('server_version_num')::int < 100000 THEN
        RETURN 0;
    END IF;
    v_fn := pgq._write_capture_function(i_queue_name, i_table, i_args, i_format);
    IF v_fn IS NULL THEN
        RETURN 0;
    END IF;
    v_arglist := (SELECT string_agg(quote_literal(x), ', ') FROM unnest(ARRAY[i_queue_name] || coalesce(i_args, '{}')) x);
    FOREACH v_op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', i_trigger_name || '_' || lower(left(v_op, 1)), i_table::text);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT EXECUTE PROCEDURE %s(%s)',
                       i_trigger_name || '_' || lower(left(v_op, 1)), v_op, i_table::text,
                       CASE v_op WHEN 'INSERT' THEN 'NEW TABLE AS new_rows' WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
                                 ELSE 'NEW TABLE AS new_rows OLD TABLE AS old_rows' END,
                       v_fn, v_arglist);
    END LOOP;
    RETURN 1;
END;
$$;
