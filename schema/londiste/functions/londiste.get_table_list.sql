-- londiste.get_table_list(queue): every table of the queue as this node sees it: replicated
-- here or not, copy state and snapshot, attributes, local name. copy_role/copy_pos coordinate
-- copies of merged tables (unused here: always NULL/0).
CREATE OR REPLACE FUNCTION londiste.get_table_list(
    IN i_queue_name text,
    OUT table_name text, OUT local boolean, OUT merge_state text, OUT custom_snapshot text,
    OUT table_attrs text, OUT dropped_ddl text, OUT copy_role text, OUT copy_pos int4, OUT dest_table text)
RETURNS SETOF record
LANGUAGE sql STRICT STABLE
AS $$
    SELECT t.table_name, t.local, t.merge_state, t.custom_snapshot, t.table_attrs, t.dropped_ddl,
           NULL::text, 0, t.dest_table
      FROM londiste.table_info t
     WHERE t.queue_name = i_queue_name
     ORDER BY t.nr, t.table_name
$$;
