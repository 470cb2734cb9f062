-- pgq.tune_storage(queue): event tables are insert-only and emptied by TRUNCATE, so they
-- need neither free space in pages nor autovacuum.
CREATE OR REPLACE FUNCTION pgq.tune_storage(i_queue_name text)
RETURNS integer
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    q pgq.queue%ROWTYPE;
BEGIN
    SELECT * INTO q FROM pgq.queue WHERE queue_name = i_queue_name;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOR i IN 0 .. q.queue_ntables - 1 LOOP
        EXECUTE 'ALTER TABLE ' || pgq.quote_fqname(q.queue_data_pfx || '_' || i)
             || ' SET (fillfactor = 100, autovacuum_enabled = off, toast.autovacuum_enabled = off)';
    END LOOP;
    RETURN 1;
END;
$$;
