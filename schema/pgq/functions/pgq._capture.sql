-- pgq._capture(kind, ...): internal; the body shared by logutriga, jsontriga and sqltriga.
-- Given the trigger's context it returns the event to insert (NULL when the change is not
-- logged); the trigger functions only pass their context in and insert the result.
CREATE OR REPLACE FUNCTION pgq._capture(
    IN i_kind text, IN i_op text, IN i_relid oid, IN i_when text, IN i_level text,
    IN i_args text[], IN i_new anyelement, IN i_old anyelement,
    OUT ev_type text, OUT ev_data text, OUT ev_extra1 text, OUT ev_extra2 text, OUT ev_extra3 text, OUT ev_extra4 text)
LANGUAGE plpgsql
AS $$
DECLARE
    a       record;
    v_queue text := i_args[1];
    v_table text;
    v_pkeys text[];
    v_op    text := left(i_op, 1);
    v_row   ALIAS FOR i_new;
    v_ok    boolean;
    v_diff  text[];
BEGIN
    SELECT n.nspname || '.' || c.relname INTO v_table
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = i_relid;
    a := pgq._trigger_args(i_args[2:]);
    IF a.deny THEN
        RAISE EXCEPTION 'Table ''%'' to queue ''%'': change not allowed (%)', v_table, v_queue, i_op;
    END IF;
    IF a.skip AND i_when = 'AFTER' THEN
        RAISE EXCEPTION 'SKIP does not work in AFTER trigger.';
    END IF;
    IF i_op = 'TRUNCATE' THEN
        IF i_level <> 'STATEMENT' THEN
            RAISE EXCEPTION 'pgq tRuncate trigger must be fired FOR EACH STATEMENT';
        END IF;
        IF a.ignore_cols IS NOT NULL THEN RAISE EXCEPTION 'Column ignore does not make sense for truncate trigger'; END IF;
        IF a.pkey_cols IS NOT NULL THEN RAISE EXCEPTION 'Custom pkey_list does not make sense for truncate trigger'; END IF;
        IF a.backup THEN RAISE EXCEPTION 'Backup does not make sense for truncate trigger'; END IF;
        ev_type := 'R';
        ev_data := CASE i_kind WHEN 'json' THEN '{}' ELSE '' END;
        IF i_kind = 'json' THEN
            ev_type := '{"op":"TRUNCATE","table":[' || to_json(split_part(v_table, '.', 1))::text || ',' || to_json(split_part(v_table, '.', 2))::text || ']}';
        END IF;
        ev_extra1 := v_table;
        RETURN;
    END IF;
    IF i_level <> 'ROW' THEN
        RAISE EXCEPTION 'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW';
    END IF;

    v_pkeys := coalesce(a.pkey_cols, pgq._table_pkeys(i_relid));
    IF v_op IN ('U', 'D') AND cardinality(v_pkeys) = 0 THEN
        RAISE EXCEPTION 'Update/Delete on table without pkey';
    END IF;
    IF v_op = 'D' THEN
        v_row := i_old;
    END IF;

    IF v_op = 'U' THEN
        -- which columns really changed: a key change is refused, a change of ignored columns only is not logged
        EXECUTE 'SELECT array_agg(n.key) FROM jsonb_each(to_jsonb($1)) n JOIN jsonb_each(to_jsonb($2)) o USING (key)'
             || ' WHERE n.value IS DISTINCT FROM o.value'
           INTO v_diff USING i_new, i_old;
        IF v_diff && v_pkeys THEN
            RAISE EXCEPTION 'primary key update not allowed';
        END IF;
        IF a.ignore_cols IS NOT NULL AND v_diff IS NOT NULL AND v_diff <@ a.ignore_cols THEN
            RETURN;
        END IF;
    END IF;

    IF a.when_expr IS NOT NULL THEN
        EXECUTE 'SELECT (' || a.when_expr || ')::boolean FROM (SELECT ($1).*) r' INTO v_ok USING v_row;
        IF v_ok IS NULL THEN
            RAISE EXCEPTION 'when= should not be NULL';
        END IF;
        IF NOT v_ok THEN
            RETURN;
        END IF;
    END IF;

    IF i_kind = 'urlenc' THEN
        ev_type := v_op || ':' || array_to_string(v_pkeys, ',');
        EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, 'urlenc', a.ignore_cols) || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
    ELSIF i_kind = 'json' THEN
        ev_type := '{"op":' || to_json(i_op)::text || ',"table":[' || to_json(split_part(v_table, '.', 1))::text || ','
                   || to_json(substr(v_table, position('.' in v_table) + 1))::text || '],"pkey":['
                   || (SELECT coalesce(string_agg(to_json(k)::text, ','), '') FROM unnest(v_pkeys) k) || ']}';
        EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, 'json', a.ignore_cols) || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
    ELSE
        ev_type := v_op;
        IF v_op = 'I' THEN
            EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, 'insert', a.ignore_cols) || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
        ELSIF v_op = 'U' THEN
            EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, 'update', a.ignore_cols || v_pkeys) || ' || '' where '' || '
                 || pgq._row_encoder(i_relid, 'where', NULL, v_pkeys) || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
        ELSE
            EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, 'where', NULL, v_pkeys) || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
        END IF;
    END IF;
    ev_extra1 := v_table;

    IF a.backup AND v_op = 'U' THEN
        EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, CASE WHEN i_kind = 'json' THEN 'json' ELSE 'urlenc' END, a.ignore_cols)
             || ' FROM (SELECT ($1).*) r' INTO ev_extra2 USING i_old;
    END IF;
    -- custom expressions over the row replace the defaults
    IF a.ev_type_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.ev_type_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_type USING v_row; END IF;
    IF a.extra1_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra1_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra1 USING v_row; END IF;
    IF a.extra2_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra2_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra2 USING v_row; END IF;
    IF a.extra3_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra3_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra3 USING v_row; END IF;
    IF a.extra4_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra4_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra4 USING v_row; END IF;
END;
$$;
