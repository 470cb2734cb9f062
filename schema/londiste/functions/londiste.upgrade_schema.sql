-- londiste.upgrade_schema(): bring tables of an older londiste up to date; returns the number
-- of changes made.
CREATE OR REPLACE FUNCTION londiste.upgrade_schema()
RETURNS int4
LANGUAGE plpgsql
AS $$
DECLARE
    v_changes int4 := 0;
BEGIN
    -- dest_table (3.1) and execute attributes (3.2)
    v_changes := v_changes + pgq._add_column('londiste.table_info', 'dest_table', 'text');
    v_changes := v_changes + pgq._add_column('londiste.applied_execute', 'execute_attrs', 'text');
    RETURN v_changes;
END;
$$;
