-- pgq.upgrade_schema(): bring tables of an older PgQ installation up to the current structure.
-- Returns how many changes were made (0 on a current installation).
CREATE OR REPLACE FUNCTION pgq.upgrade_schema()
RETURNS int4
LANGUAGE plpgsql
AS $$
DECLARE
    v_changes int4 := 0;
BEGIN
    -- PgQ 2 required sub_last_tick; 3.x allows NULL while a consumer is being set up
    IF EXISTS (SELECT 1 FROM information_schema.columns
                WHERE table_schema = 'pgq' AND table_name = 'subscription'
                  AND column_name = 'sub_last_tick' AND is_nullable = 'NO') THEN
        ALTER TABLE pgq.subscription ALTER COLUMN sub_last_tick DROP NOT NULL;
        v_changes := v_changes + 1;
    END IF;
    v_changes := v_changes + pgq._add_column('pgq.queue', 'queue_extra_maint', 'text[]');
    v_changes := v_changes + pgq._add_column('pgq.queue', 'queue_per_tx_limit', 'integer');
    RETURN v_changes;
END;
$$;
