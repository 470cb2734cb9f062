-- londiste.get_table_list(queue): every table of the queue as this node sees it: replicated
-- here or not, copy state and snapshot, attributes, local name, and for a table several source
-- queues merge into, its copy role and position (londiste._coordinate_copy).
CREATE OR REPLACE FUNCTION londiste.get_table_list(
    IN i_queue_name text,
    OUT table_name text, OUT local boolean, OUT merge_state text, OUT custom_snapshot text,
    OUT table_attrs text, OUT dropped_ddl text, OUT copy_role text, OUT copy_pos int4, OUT dest_table text)
RETURNS SETOF record
LANGUAGE sql STRICT STABLE
AS $$
    -- only tables in copy are coordinated: the others cost nothing, and a reader of a root's
    -- list (a subscriber's user) needs no more than table_info
    SELECT t.table_name, t.local, t.merge_state, t.custom_snapshot, t.table_attrs, t.dropped_ddl,
           CASE WHEN t.merge_state IN ('in-copy', 'catching-up')
                THEN (londiste._coordinate_copy(t.queue_name, t.table_name)).copy_role END,
           CASE WHEN t.merge_state IN ('in-copy', 'catching-up')
                THEN (londiste._coordinate_copy(t.queue_name, t.table_name)).copy_pos ELSE 0 END,
           t.dest_table
      FROM londiste.table_info t
     WHERE t.queue_name = i_queue_name
     ORDER BY t.nr, t.table_name
$$;
