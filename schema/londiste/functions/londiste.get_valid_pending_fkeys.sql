-- londiste.get_valid_pending_fkeys(queue): dropped foreign keys that can be restored now (both
-- tables in sync) and that this queue's worker is the one to restore (the root's queue wins,
-- then a branch's, then the first by name).
CREATE OR REPLACE FUNCTION londiste.get_valid_pending_fkeys(i_queue_name text)
RETURNS SETOF londiste.pending_fkeys
LANGUAGE sql STRICT STABLE
AS $$
    WITH sides AS (
        SELECT pf.from_table, pf.to_table, pf.fkey_name, pf.fkey_def, side.tbl,
               count(t.*) AS total,
               count(t.*) FILTER (WHERE t.queue_name = i_queue_name) AS matching,
               count(t.*) FILTER (WHERE t.merge_state = 'ok' AND t.custom_snapshot IS NULL) AS ok
          FROM londiste.pending_fkeys pf
         CROSS JOIN LATERAL (VALUES (pf.from_table), (pf.to_table)) AS side(tbl)
          LEFT JOIN londiste.table_info t ON coalesce(t.dest_table, t.table_name) = side.tbl AND t.local
         GROUP BY pf.from_table, pf.to_table, pf.fkey_name, pf.fkey_def, side.tbl
    ), ready AS (
        SELECT from_table, to_table, fkey_name, fkey_def
          FROM sides
         GROUP BY from_table, to_table, fkey_name, fkey_def
        HAVING bool_and(total > 0 AND ok = total) AND sum(matching) > 0
    )
    SELECT r.from_table, r.to_table, r.fkey_name, r.fkey_def
      FROM ready r
     WHERE i_queue_name = (
            SELECT coalesce(min(CASE WHEN c.node_type = 'root' THEN t.queue_name END),
                            min(CASE WHEN c.node_type = 'branch' THEN c.queue_name END),
                            min(t.queue_name))
              FROM londiste.table_info t
              JOIN pgq_node.node_info n ON n.queue_name = t.queue_name
              LEFT JOIN pgq_node.node_info c ON c.queue_name = n.combined_queue
             WHERE coalesce(t.dest_table, t.table_name) IN (r.to_table, r.from_table) AND t.local)
     ORDER BY 1, 2, 3
$$;
