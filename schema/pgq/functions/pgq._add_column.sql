-- pgq._add_column(table, column, definition): internal; for the upgrade_schema() functions of
-- every schema: add a column an older installation lacks. Returns 1 when added, 0 when present.
CREATE OR REPLACE FUNCTION pgq._add_column(i_table regclass, i_column text, i_definition text)
RETURNS int4
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = i_table AND attname = i_column AND NOT attisdropped) THEN
        RETURN 0;
    END IF;
    EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', i_table, i_column, i_definition);
    RETURN 1;
END;
$$;
