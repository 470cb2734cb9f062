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
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                    WHERE attrelid = 'pgq_node.node_info'::regclass AND attname = 'node_attrs' AND NOT attisdropped) THEN
        ALTER TABLE pgq_node.node_info ADD COLUMN node_attrs text;
        v_changes := v_changes + 1;
    END IF;
    RETURN v_changes;
END;
$$;
