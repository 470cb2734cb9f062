-- pgq._capture_sql(table, queue, op, args, format, event_table): internal; the one INSERT ... SELECT
-- that turns a statement's transition table (new_rows / old_rows) into events, the same events
-- the row triggers produce, in row order. Generated capture triggers embed it as static SQL;
-- NULL when the arguments need the generic row trigger (SKIP, ev_type=).
CREATE OR REPLACE FUNCTION pgq._capture_sql(i_relid oid, i_queue text, i_op text, i_args text[], i_format text, i_event_table text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a           record;
    v_table     text;
    v_pkeys     text[];
    v_type      text;
    v_data      text;
    v_from      text;
    v_where     text := 'true';
    v_extra     text[] := ARRAY['NULL', 'NULL', 'NULL', 'NULL'];
    v_changed   text;
    v_ignored   text;
    v_join      text;
    v_magic     text;
    v_type_sql  text;
BEGIN
    a := pgq._trigger_args(i_args);
    IF a.skip OR a.ev_type_expr IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT n.nspname || '.' || c.relname INTO v_table
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = i_relid;
    v_pkeys := coalesce(a.pkey_cols, pgq._table_pkeys(i_relid));
    v_join := (SELECT string_agg(format('o.%1$I = r.%1$I', k), ' AND ') FROM unnest(v_pkeys) k);

    IF i_op = 'DELETE' THEN
        v_from := 'old_rows r';
    ELSIF i_op = 'UPDATE' AND (a.ignore_cols IS NOT NULL OR a.backup) THEN
        -- old and new images side by side (the generated function plans this join with hashing:
        -- transition tables have no statistics)
        v_from := 'new_rows r JOIN old_rows o ON ' || v_join;
        IF a.ignore_cols IS NOT NULL THEN
            -- as the row trigger: an update that changed ignored columns and nothing else is not
            -- logged (a no-op update is); compared with the type's equality where it has one
            SELECT string_agg(CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_operator op
                                                 WHERE op.oprname = '=' AND op.oprleft = att.atttypid AND op.oprright = att.atttypid)
                                   THEN format('r.%1$I IS DISTINCT FROM o.%1$I', attname)
                                   ELSE format('r.%1$I::text IS DISTINCT FROM o.%1$I::text', attname) END, ' OR ')
                     FILTER (WHERE NOT (attname::text = ANY (a.ignore_cols))),
                   string_agg(CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_operator op
                                                 WHERE op.oprname = '=' AND op.oprleft = att.atttypid AND op.oprright = att.atttypid)
                                   THEN format('r.%1$I IS DISTINCT FROM o.%1$I', attname)
                                   ELSE format('r.%1$I::text IS DISTINCT FROM o.%1$I::text', attname) END, ' OR ')
                     FILTER (WHERE attname::text = ANY (a.ignore_cols))
              INTO v_changed, v_ignored
              FROM pg_catalog.pg_attribute att
             WHERE attrelid = i_relid AND attnum > 0 AND NOT attisdropped AND NOT (attname::text = ANY (v_pkeys));
            v_where := '(' || coalesce(v_changed, 'false') || ') OR NOT (' || coalesce(v_ignored, 'false') || ')';
        END IF;
    ELSE
        v_from := 'new_rows r';
    END IF;
    IF a.when_expr IS NOT NULL THEN
        v_where := v_where || ' AND (' || a.when_expr || ')';
    END IF;

    IF i_format = 'json' THEN
        v_type := '{"op":' || to_json(i_op)::text || ',"table":[' || to_json(split_part(v_table, '.', 1))::text || ','
               || to_json(substr(v_table, position('.' in v_table) + 1))::text || '],"pkey":['
               || (SELECT coalesce(string_agg(to_json(k)::text, ','), '') FROM unnest(v_pkeys) k) || ']}';
    ELSE
        v_type := left(i_op, 1) || ':' || array_to_string(v_pkeys, ',');
    END IF;
    v_data := pgq._row_encoder(i_relid, i_format, a.ignore_cols);
    v_extra[1] := quote_literal(v_table);
    -- magic columns of the table give their fields (see pgq._capture); the arguments still win
    FOREACH v_magic IN ARRAY string_to_array(pgq._magic_columns(i_relid), chr(1)) LOOP
        CASE v_magic
            WHEN '_pgq_ev_type' THEN v_type_sql := format('r.%I::text', v_magic);
            WHEN '_pgq_ev_data' THEN v_data := format('r.%I::text', v_magic);
            ELSE v_extra[right(v_magic, 1)::int] := format('r.%I::text', v_magic);
        END CASE;
    END LOOP;
    v_extra[1] := coalesce('(' || a.extra1_expr || ')::text', v_extra[1]);
    IF a.backup AND i_op = 'UPDATE' THEN
        -- the encoder reads alias r: give it the old row under that name
        v_extra[2] := '(SELECT ' || pgq._row_encoder(i_relid, i_format, a.ignore_cols) || ' FROM (SELECT o.*) r)';
    END IF;
    v_extra[2] := coalesce('(' || a.extra2_expr || ')::text', v_extra[2]);
    v_extra[3] := coalesce('(' || a.extra3_expr || ')::text', v_extra[3]);
    v_extra[4] := coalesce('(' || a.extra4_expr || ')::text', v_extra[4]);

    -- every column, each of its exact type: the planner then needs no projection of its own over
    -- the SELECT (one expression tree fewer to set up in every statement)
    RETURN format('INSERT INTO %s (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
               || ' SELECT nextval(%L), now(), txid_current(), NULL::int4, NULL::int4, %s, (%s)::text, (%s)::text, (%s)::text, (%s)::text, (%s)::text'
               || ' FROM %s WHERE %s',
                  i_event_table, (SELECT queue_event_seq FROM pgq.queue WHERE queue_name = i_queue),
                  coalesce(v_type_sql, quote_literal(v_type) || '::text'), v_data, v_extra[1], v_extra[2], v_extra[3], v_extra[4], v_from, v_where);
END;
$$;
