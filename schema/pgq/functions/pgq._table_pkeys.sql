-- pgq._table_pkeys(table oid): internal; the primary key columns in key order, as the
-- triggers name them in ev_type ("I:id1,id2").
CREATE OR REPLACE FUNCTION pgq._table_pkeys(i_relid oid)
RETURNS text[]
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(array_agg(k.attname::text ORDER BY k.attnum), '{}')
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute k ON k.attrelid = i.indexrelid
     WHERE i.indrelid = i_relid AND i.indisprimary AND k.attnum > 0 AND NOT k.attisdropped
$$;
