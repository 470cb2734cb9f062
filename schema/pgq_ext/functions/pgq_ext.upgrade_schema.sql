-- pgq_ext.upgrade_schema(): bring tables of a pgq_ext older than 3.1 (no subconsumer_id) up to
-- date. Returns the number of changes made.
CREATE OR REPLACE FUNCTION pgq_ext.upgrade_schema()
RETURNS int4
LANGUAGE plpgsql
AS $$
DECLARE
    v_tbl       text;
    v_key       text;
    v_changes   int4 := 0;
BEGIN
    FOR v_tbl, v_key IN
        VALUES ('completed_tick', 'consumer_id, subconsumer_id'),
               ('completed_batch', 'consumer_id, subconsumer_id'),
               ('completed_event', 'consumer_id, subconsumer_id, batch_id, event_id'),
               ('partial_batch', 'consumer_id, subconsumer_id')
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                        WHERE attrelid = ('pgq_ext.' || v_tbl)::regclass
                          AND attname = 'subconsumer_id' AND NOT attisdropped) THEN
            EXECUTE format('ALTER TABLE pgq_ext.%I ADD COLUMN subconsumer_id text NOT NULL DEFAULT %L', v_tbl, '');
            EXECUTE format('ALTER TABLE pgq_ext.%I DROP CONSTRAINT %I', v_tbl, v_tbl || '_pkey');
            EXECUTE format('ALTER TABLE pgq_ext.%I ADD CONSTRAINT %I PRIMARY KEY (%s)', v_tbl, v_tbl || '_pkey', v_key);
            v_changes := v_changes + 1;
        ELSIF EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_schema = 'pgq_ext' AND table_name = v_tbl
                         AND column_name = 'subconsumer_id' AND column_default IS NULL) THEN
            EXECUTE format('ALTER TABLE pgq_ext.%I ALTER COLUMN subconsumer_id SET DEFAULT %L', v_tbl, '');
            v_changes := v_changes + 1;
        END IF;
    END LOOP;
    RETURN v_changes;
END;
$$;
