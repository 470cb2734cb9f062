-- londiste.local_show_missing(queue): what could still be added on this node: on the root every
-- user table ('r') and sequence ('S') not replicated yet; elsewhere the queue's tables and
-- sequences not replicated here.
CREATE OR REPLACE FUNCTION londiste.local_show_missing(
    IN i_queue_name text,
    OUT obj_kind text, OUT obj_name text)
RETURNS SETOF record
LANGUAGE plpgsql STRICT STABLE
AS $$
BEGIN
    IF pgq_node.is_root_node(i_queue_name) THEN
        RETURN QUERY
            SELECT r.relkind::text, n.nspname || '.' || r.relname
              FROM pg_catalog.pg_class r JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
             WHERE r.relkind IN ('r', 'S')
               AND n.nspname NOT IN ('pgq', 'pgq_ext', 'pgq_node', 'londiste', 'pg_catalog', 'information_schema')
               AND n.nspname !~ '^pg_(toast|temp)'
               AND NOT EXISTS (SELECT 1 FROM londiste.table_info t
                                WHERE t.queue_name = i_queue_name AND t.local
                                  AND coalesce(t.dest_table, t.table_name) = n.nspname || '.' || r.relname)
               AND NOT EXISTS (SELECT 1 FROM londiste.seq_info s
                                WHERE s.queue_name = i_queue_name AND s.local AND s.seq_name = n.nspname || '.' || r.relname)
             ORDER BY 1, 2;
    ELSE
        RETURN QUERY
            SELECT 'S'::text, s.seq_name FROM londiste.seq_info s WHERE s.queue_name = i_queue_name AND NOT s.local
            UNION ALL
            SELECT 'r'::text, t.table_name FROM londiste.table_info t WHERE t.queue_name = i_queue_name AND NOT t.local
            ORDER BY 1, 2;
    END IF;
END;
$$;
