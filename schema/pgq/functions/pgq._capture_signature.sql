-- pgq._capture_signature(table): internal; what capture SQL is written for: the table's
-- qualified name, its columns with their types, and its primary key. SQL written for a table
-- whose signature has changed since must be written again. PL/pgSQL, so that the query's plan
-- is kept for the session: triggers call this for every statement or row.
CREATE OR REPLACE FUNCTION pgq._capture_signature(i_relid oid)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN (SELECT n.nspname || '.' || c.relname
                   || '|' || (SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.atttypmod, ',' ORDER BY a.attnum)
                                FROM pg_catalog.pg_attribute a
                               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
                   || '|' || coalesce((SELECT string_agg(k.attname, ',' ORDER BY k.attnum)
                                         FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute k ON k.attrelid = i.indexrelid
                                        WHERE i.indrelid = c.oid AND i.indisprimary), '')
              FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = i_relid);
END;
$$;

-- its predecessor, no longer used
DROP FUNCTION IF EXISTS pgq._column_signature(oid);
