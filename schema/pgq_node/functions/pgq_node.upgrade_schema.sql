-- pgq_node.upgrade_schema(): bring tables of an older pgq_node up to date; returns the number
-- of changes made.
CREATE OR REPLACE FUNCTION pgq_node.upgrade_schema()
RETURNS int4
LANGUAGE plpgsql
AS $$
DECLARE
    v_changes int4 := 0;
BEGIN
    -- node attributes arrived in 3.1
    v_changes := v_changes + pgq._add_column('pgq_node.node_info', 'node_attrs', 'text');
    RETURN v_changes;
END;
$$;
