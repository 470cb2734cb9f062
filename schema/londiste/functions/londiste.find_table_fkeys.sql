-- londiste.find_table_fkeys(table): foreign keys from or to a table, each with the statement
-- that re-creates it.
CREATE OR REPLACE FUNCTION londiste.find_table_fkeys(i_table_name text)
RETURNS SETOF londiste.pending_fkeys
LANGUAGE sql STRICT STABLE
AS $$
    SELECT n1.nspname || '.' || t1.relname, n2.nspname || '.' || t2.relname, c.conname::text,
           'alter table only ' || quote_ident(n1.nspname) || '.' || quote_ident(t1.relname)
           || ' add constraint ' || quote_ident(c.conname::text) || ' ' || pg_get_constraintdef(c.oid)
      FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_class t1 ON t1.oid = c.conrelid
      JOIN pg_catalog.pg_namespace n1 ON n1.oid = t1.relnamespace
      JOIN pg_catalog.pg_class t2 ON t2.oid = c.confrelid
      JOIN pg_catalog.pg_namespace n2 ON n2.oid = t2.relnamespace
     WHERE c.contype = 'f'
       AND (c.conrelid = londiste.find_table_oid(i_table_name) OR c.confrelid = londiste.find_table_oid(i_table_name))
     ORDER BY 1, 2, 3
$$;
