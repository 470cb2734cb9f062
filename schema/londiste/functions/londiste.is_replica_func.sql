-- londiste.is_replica_func(oid): is the function one of the PgQ capture triggers (generic or
-- generated per table)?
CREATE OR REPLACE FUNCTION londiste.is_replica_func(func_oid oid)
RETURNS boolean
LANGUAGE sql STRICT STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
                    WHERE f.oid = func_oid AND n.nspname = 'pgq'
                      AND (f.proname IN ('sqltriga', 'logutriga', 'jsontriga') OR f.proname LIKE 'trg\_%'))
$$;
