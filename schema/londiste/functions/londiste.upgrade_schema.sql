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
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                    WHERE attrelid = 'londiste.table_info'::regclass AND attname = 'dest_table' AND NOT attisdropped) THEN
        ALTER TABLE londiste.table_info ADD COLUMN dest_table text;
        v_changes := v_changes + 1;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                    WHERE attrelid = 'londiste.applied_execute'::regclass AND attname = 'execute_attrs' AND NOT attisdropped) THEN
        ALTER TABLE londiste.applied_execute ADD COLUMN execute_attrs text;
        v_changes := v_changes + 1;
    END IF;
    RETURN v_changes;
END;
$$;
