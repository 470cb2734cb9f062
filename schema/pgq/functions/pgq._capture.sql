-- pgq._capture(kind, ...): internal; the body shared by logutriga, jsontriga and sqltriga.
-- Given the trigger's context it returns the event to insert (NULL when the change is not
-- logged); the trigger functions only pass their context in and insert the result.
-- The SQL that encodes rows is built once per session, table and arguments and kept in a
-- session setting together with the table's signature: a table altered since gets new SQL.
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
    v_set   text;
    v_parts text[];
    v_magic text;
    v_value text;
    v_sig   text;
    v_key   text;
    v_cache text[];
BEGIN
    a := pgq._trigger_args(i_args[2:]);
    -- cache: signature, table, keys, then the encoders of this kind (see below)
    v_sig := pgq._capture_signature(i_relid);
    v_key := 'pgq.capture_' || i_relid || '_' || i_kind || '_' || md5(array_to_string(i_args[2:], chr(1)));
    v_cache := string_to_array(current_setting(v_key, true), chr(2));
    IF v_cache[1] IS DISTINCT FROM v_sig OR cardinality(v_cache) < 9 THEN
        v_pkeys := coalesce(a.pkey_cols, pgq._table_pkeys(i_relid));
        v_cache := ARRAY[v_sig, (SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c
                                    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = i_relid),
                         array_to_string(v_pkeys, ','),
                         pgq._row_encoder(i_relid, CASE WHEN i_kind = 'sql' THEN 'insert' ELSE i_kind END, a.ignore_cols),
                         CASE WHEN i_kind = 'sql' THEN pgq._row_encoder(i_relid, 'update', a.ignore_cols || v_pkeys) END,
                         CASE WHEN i_kind = 'sql' THEN pgq._row_encoder(i_relid, 'where', NULL, v_pkeys) END,
                         CASE WHEN a.backup THEN pgq._row_encoder(i_relid, CASE WHEN i_kind = 'json' THEN 'json' ELSE 'urlenc' END, a.ignore_cols) END,
                         CASE WHEN i_kind = 'sql' THEN pgq._row_encoder(i_relid, 'names', a.ignore_cols || v_pkeys) END,
                         pgq._magic_columns(i_relid)];
        IF i_kind = 'sql' AND v_cache[8] IS NOT NULL THEN
            -- the encoder gives the column names as an SQL literal: keep the names themselves
            EXECUTE 'SELECT ' || v_cache[8] INTO v_value;
            v_cache[8] := v_value;
        END IF;
        PERFORM set_config(v_key, array_to_string(v_cache, chr(2), ''), false);
    END IF;
    v_table := v_cache[2];
    v_pkeys := CASE WHEN v_cache[3] = '' THEN '{}'::text[] ELSE string_to_array(v_cache[3], ',') END;
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
            -- as upstream, with the table's key like the row events
            ev_type := '{"op":"TRUNCATE","table":[' || to_json(split_part(v_table, '.', 1))::text || ','
                       || to_json(substr(v_table, position('.' in v_table) + 1))::text || '],"pkey":['
                       || (SELECT coalesce(string_agg(to_json(k)::text, ','), '') FROM unnest(v_pkeys) k) || ']}';
        END IF;
        ev_extra1 := v_table;
        RETURN;
    END IF;
    IF i_level <> 'ROW' THEN
        RAISE EXCEPTION 'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW';
    END IF;
    IF v_op IN ('U', 'D') AND cardinality(v_pkeys) = 0 THEN
        RAISE EXCEPTION 'Update/Delete on table without pkey';
    END IF;
    IF v_op = 'D' THEN
        v_row := i_old;
    END IF;

    IF v_op = 'U' THEN
        -- which columns really changed: a key change is refused, a change of ignored columns only is not logged
        SELECT array_agg(n.key) INTO v_diff
          FROM jsonb_each(to_jsonb(i_new)) n JOIN jsonb_each(to_jsonb(i_old)) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
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
        EXECUTE 'SELECT ' || v_cache[4] || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
    ELSIF i_kind = 'json' THEN
        ev_type := '{"op":' || to_json(i_op)::text || ',"table":[' || to_json(split_part(v_table, '.', 1))::text || ','
                   || to_json(substr(v_table, position('.' in v_table) + 1))::text || '],"pkey":['
                   || (SELECT coalesce(string_agg(to_json(k)::text, ','), '') FROM unnest(v_pkeys) k) || ']}';
        EXECUTE 'SELECT ' || v_cache[4] || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
    ELSE
        ev_type := v_op;
        IF v_op = 'I' THEN
            EXECUTE 'SELECT ' || v_cache[4] || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
        ELSIF v_op = 'U' THEN
            -- as upstream: SET only the columns that changed; an update changing nothing sets the
            -- first key column to itself, so that the event still says the row was updated
            EXECUTE 'SELECT ' || coalesce(nullif(v_cache[5], ''), 'NULL::text[]') || ' FROM (SELECT ($1).*) r' INTO v_parts USING v_row;
            SELECT string_agg(x.part, ',' ORDER BY x.i) INTO v_set
              FROM unnest(v_parts, string_to_array(v_cache[8], chr(1))) WITH ORDINALITY AS x(part, col, i)
             WHERE x.col = ANY (coalesce(v_diff, '{}'));
            IF v_set IS NULL THEN
                EXECUTE 'SELECT ' || pgq._row_encoder(i_relid, 'where', NULL, v_pkeys[1:1]) || ' FROM (SELECT ($1).*) r' INTO v_set USING i_old;
            END IF;
            EXECUTE 'SELECT ' || v_cache[6] || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
            ev_data := v_set || ' where ' || ev_data;
        ELSE
            EXECUTE 'SELECT ' || v_cache[6] || ' FROM (SELECT ($1).*) r' INTO ev_data USING v_row;
        END IF;
    END IF;
    ev_extra1 := v_table;

    IF a.backup AND v_op = 'U' THEN
        EXECUTE 'SELECT ' || v_cache[7] || ' FROM (SELECT ($1).*) r' INTO ev_extra2 USING i_old;
    END IF;
    -- columns _pgq_ev_type, _pgq_ev_data, _pgq_ev_extra1..4 of the row give those fields (upstream's
    -- deprecated "magic columns"; the encoders leave them out of the data)
    FOREACH v_magic IN ARRAY string_to_array(v_cache[9], chr(1)) LOOP
        EXECUTE format('SELECT ($1).%I::text', v_magic) INTO v_value USING v_row;
        CASE v_magic
            WHEN '_pgq_ev_type' THEN ev_type := v_value;
            WHEN '_pgq_ev_data' THEN ev_data := v_value;
            WHEN '_pgq_ev_extra1' THEN ev_extra1 := v_value;
            WHEN '_pgq_ev_extra2' THEN ev_extra2 := v_value;
            WHEN '_pgq_ev_extra3' THEN ev_extra3 := v_value;
            ELSE ev_extra4 := v_value;
        END CASE;
    END LOOP;
    -- custom expressions over the row replace the defaults
    IF a.ev_type_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.ev_type_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_type USING v_row; END IF;
    IF a.extra1_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra1_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra1 USING v_row; END IF;
    IF a.extra2_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra2_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra2 USING v_row; END IF;
    IF a.extra3_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra3_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra3 USING v_row; END IF;
    IF a.extra4_expr IS NOT NULL THEN EXECUTE 'SELECT (' || a.extra4_expr || ')::text FROM (SELECT ($1).*) r' INTO ev_extra4 USING v_row; END IF;
END;
$$;
