-- londiste.periodic_maintenance(): run by the ticker's maintenance: forget DDL scripts applied
-- more than 3 months ago, and copy backlog rows of tables no longer being copied.
CREATE OR REPLACE FUNCTION londiste.periodic_maintenance()
RETURNS integer
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM londiste.applied_execute WHERE execute_time < now() - interval '3 months';
    DELETE FROM londiste.copy_backlog b
     WHERE NOT EXISTS (SELECT 1 FROM londiste.table_info t
                        WHERE t.queue_name = b.queue_name AND t.table_name = b.table_name AND t.local
                          AND coalesce(t.merge_state, 'in-copy') IN ('in-copy', 'catching-up'));
    RETURN 0;
END;
$$;
