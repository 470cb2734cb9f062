-- pgq._row_encoder(table oid, format, skip_cols): internal; an SQL expression over a row
-- variable `r` that renders it the way the triggers do: 'urlenc' (col=value&col2, a NULL
-- without '='), 'json' (an object: integers and booleans bare, dates and timestamps in JSON
-- form, everything else as a string), 'insert'/'update'/'where' (sqltriga's SQL fragments; 'update'
-- an array of col=value per column, 'names' their names). Values
-- use the types' text output, like the C triggers. Dropped columns, skip_cols and the magic
-- _pgq_ev_* columns are left out.
CREATE OR REPLACE FUNCTION pgq._row_encoder(i_relid oid, i_format text, i_skip text[], i_keys text[] DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE
AS $$
    WITH cols AS (
        SELECT a.attname::text AS name, a.attnum, format_type(a.atttypid, NULL) AS typ, a.atttypid AS typid
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = i_relid AND a.attnum > 0 AND NOT a.attisdropped
           AND NOT (a.attname::text = ANY (coalesce(i_skip, '{}')))
           AND a.attname::text NOT LIKE '\_pgq\_ev\_%'
           AND (i_keys IS NULL OR a.attname::text = ANY (i_keys))
    )
    SELECT CASE i_format
        WHEN 'urlenc' THEN
            coalesce('concat_ws(''&'', ' || string_agg(
                format('CASE WHEN r.%1$I IS NULL THEN %2$L ELSE %3$L || %4$s END',
                       name, pgq._urlenc(name), pgq._urlenc(name) || '=', pgq._urlenc_expr(format('r.%I', name), typid)),
                ', ' ORDER BY attnum) || ')', '''''')
        WHEN 'json' THEN
            coalesce('''{'' || concat_ws('','', ' || string_agg(
                format('%2$L || CASE WHEN r.%1$I IS NULL THEN ''null'' ELSE %3$s END',
                       name, to_json(name)::text || ':',
                       CASE WHEN typ IN ('smallint', 'integer', 'bigint') THEN format('r.%1$I::text', name)
                            WHEN typ = 'boolean' THEN format('CASE WHEN r.%1$I THEN ''true'' ELSE ''false'' END', name)
                            WHEN typ IN ('timestamp without time zone', 'timestamp with time zone', 'date')
                                THEN format('to_json(r.%1$I)::text', name)
                            ELSE format('to_json(%s)::text', pgq._text_expr(format('r.%I', name), typid)) END),
                ', ' ORDER BY attnum) || ') || ''}''', '''{}''')
        WHEN 'insert' THEN
            '''(' || string_agg(quote_ident(name), ',' ORDER BY attnum) || ') values ('' || concat_ws('','', '
            || string_agg(format('coalesce(quote_literal(%s), ''null'')', pgq._text_expr(format('r.%I', name), typid)), ', ' ORDER BY attnum) || ') || '')'''
        WHEN 'update' THEN
            -- one col=value per column, in column order; the trigger keeps those that changed
            'ARRAY[' || string_agg(format('%L || coalesce(quote_literal(%s), ''null'')', quote_ident(name) || '=', pgq._text_expr(format('r.%I', name), typid)), ', ' ORDER BY attnum) || ']::text[]'
        WHEN 'names' THEN
            -- the column names the 'update' array is made of, joined by chr(1)
            quote_literal(string_agg(name, chr(1) ORDER BY attnum))
        WHEN 'where' THEN
            'concat_ws('' and '', ' || string_agg(format('%L || quote_nullable(%s)', quote_ident(name) || '=', pgq._text_expr(format('r.%I', name), typid)), ', ' ORDER BY attnum) || ')'
        END
      FROM cols
$$;
