-- londiste.find_column_types(table): one letter per column in order: 'k' for a primary key
-- column, 'v' for the others. Empty when the table does not exist.
CREATE OR REPLACE FUNCTION londiste.find_column_types(tbl text)
RETURNS text
LANGUAGE sql STRICT STABLE
AS $$
    SELECT coalesce(string_agg(CASE WHEN k.indrelid IS NULL THEN 'v' ELSE 'k' END, '' ORDER BY a.attnum), '')
      FROM pg_catalog.pg_attribute a
      LEFT JOIN pg_catalog.pg_index k ON k.indrelid = a.attrelid AND k.indisprimary AND a.attnum = ANY (k.indkey::int2[])
     WHERE a.attrelid = londiste.find_table_oid(tbl) AND a.attnum > 0 AND NOT a.attisdropped
$$;
