-- londiste._coordinate_copy(queue, table): the copy role of a table that several source queues
-- merge into one local table (leaf nodes sharing a combined queue, add-table --merge-all).
-- One queue leads: it drops the table's indexes and constraints (kept in dropped_ddl), truncates
-- and copies; the others copy into the bare table after it, without touching its structure, and
-- the structure comes back once every part has copied. Roles:
--   lead         copy with the structure dropped; once copied, wait while the others copy
--   wait-copy    wait until the lead has dropped the structure (or some part has copied)
--   wait-replay  copy (or having copied) without touching the structure; then wait until the
--                role clears before replaying
--   NULL         no coordination: one source only, or nothing left to wait for
-- copy_pos: how many parts of the same table are in copy before this one (by queue name).
CREATE OR REPLACE FUNCTION londiste._coordinate_copy(
    IN i_queue_name text, IN i_table_name text,
    OUT copy_role text, OUT copy_pos int4)
LANGUAGE plpgsql STRICT STABLE
AS $$
DECLARE
    me          record;
    parts       int4;
    copied      int4;
    lead_queue  text;
    ddl_queue   text;
BEGIN
    copy_role := NULL;
    copy_pos := 0;
    SELECT t.merge_state, t.dropped_ddl, coalesce(t.dest_table, t.table_name) AS dest, n.combined_queue
      INTO me
      FROM londiste.table_info t
      JOIN pgq_node.node_info n ON n.queue_name = t.queue_name
     WHERE t.queue_name = i_queue_name AND t.table_name = i_table_name;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- the parts: the same local table fed by queues of the same combined queue, not in sync yet
    SELECT count(*) FILTER (WHERE p.local),
           count(*) FILTER (WHERE p.local AND p.merge_state <> 'in-copy'),
           min(p.queue_name) FILTER (WHERE p.local),
           min(p.queue_name) FILTER (WHERE p.local AND p.dropped_ddl IS NOT NULL),
           count(*) FILTER (WHERE me.merge_state = 'in-copy' AND p.merge_state = 'in-copy' AND p.queue_name < i_queue_name)
      INTO parts, copied, lead_queue, ddl_queue, copy_pos
      FROM pgq_node.node_info n
      JOIN londiste.table_info p ON p.queue_name = n.queue_name
     WHERE n.combined_queue IS NOT DISTINCT FROM me.combined_queue
       AND coalesce(p.dest_table, p.table_name) = me.dest
       AND p.merge_state IS DISTINCT FROM 'ok';

    IF parts <= 1 THEN
        RETURN;
    END IF;
    -- the part that already dropped the structure leads, whoever joined later
    lead_queue := coalesce(ddl_queue, lead_queue);

    IF lead_queue = i_queue_name THEN
        IF me.merge_state = 'in-copy' THEN
            copy_pos := 0;  -- the lead never waits for a copy slot of its own group
            IF me.dropped_ddl IS NULL AND copied > 0 THEN
                -- others copied with the structure in place: copy the same way
                copy_role := 'wait-replay';
            ELSIF copied < parts THEN
                copy_role := 'lead';
            END IF;
        ELSIF me.merge_state = 'catching-up' AND me.dropped_ddl IS NOT NULL AND copied < parts THEN
            copy_role := 'wait-replay';
        END IF;
    ELSIF me.merge_state = 'in-copy' THEN
        copy_role := CASE WHEN ddl_queue IS NOT NULL OR copied > 0 THEN 'wait-replay' ELSE 'wait-copy' END;
    ELSIF me.merge_state = 'catching-up' AND ddl_queue IS NOT NULL THEN
        copy_role := 'wait-replay';
    END IF;
END;
$$;
