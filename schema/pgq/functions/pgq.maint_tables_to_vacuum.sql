-- pgq.maint_tables_to_vacuum(): the small, very frequently updated tables of PgQ and its
-- companions that need explicit VACUUM. Empty when autovacuum is on (it handles them).
CREATE OR REPLACE FUNCTION pgq.maint_tables_to_vacuum()
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
BEGIN
    IF current_setting('autovacuum') = 'on' THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT n.nspname || '.' || c.relname
          FROM (VALUES (1, 'pgq', 'subscription'), (2, 'pgq', 'consumer'), (3, 'pgq', 'queue'),
                       (4, 'pgq', 'tick'), (5, 'pgq', 'retry_queue'),
                       (6, 'pgq_ext', 'completed_tick'), (7, 'pgq_ext', 'completed_batch'),
                       (8, 'pgq_ext', 'completed_event'), (9, 'pgq_ext', 'partial_batch'),
                       (10, 'pgq_node', 'local_state'), (11, 'londiste', 'seq_info'),
                       (12, 'txid', 'epoch'), (13, 'londiste', 'completed')) AS t(ord, scm, tbl)
          JOIN pg_namespace n ON n.nspname = t.scm
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tbl
         ORDER BY t.ord;
END;
$$;
