-- pgq._column_signature(table): internal; names and types of a table's columns in order, so a
-- generated capture trigger can tell that the table was altered since it was written.
CREATE OR REPLACE FUNCTION pgq._column_signature(i_relid oid)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT string_agg(attname || ':' || atttypid || ':' || atttypmod, ',' ORDER BY attnum)
      FROM pg_catalog.pg_attribute WHERE attrelid = i_relid AND attnum > 0 AND NOT attisdropped
$$;
