-- pgq._capture_signature_sql(): internal; the query (one parameter: the table's oid) giving what a
-- generated capture function is written for: the table's qualified name, its columns with their
-- types, and its primary key. A function whose signature no longer matches the table must be
-- rewritten. Also embedded, with TG_RELID, in functions that check it themselves.
CREATE OR REPLACE FUNCTION pgq._capture_signature_sql()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT 'SELECT n.nspname || ''.'' || c.relname'
        || ' || ''|'' || (SELECT string_agg(a.attname || '':'' || a.atttypid || '':'' || a.atttypmod, '','' ORDER BY a.attnum)'
        || ' FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)'
        || ' || ''|'' || coalesce((SELECT string_agg(k.attname, '','' ORDER BY k.attnum)'
        || ' FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute k ON k.attrelid = i.indexrelid'
        || ' WHERE i.indrelid = c.oid AND i.indisprimary), '''')'
        || ' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1'
$$;

-- pgq._capture_signature(table): internal; the signature of a table as it is now.
CREATE OR REPLACE FUNCTION pgq._capture_signature(i_relid oid)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_sig text;
BEGIN
    EXECUTE pgq._capture_signature_sql() INTO v_sig USING i_relid;
    RETURN v_sig;
END;
$$;
