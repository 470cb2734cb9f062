-- Privileges, as PgQ 3.5 grants them: everyone may look, pgq_reader consumes,
-- pgq_writer produces, pgq_admin runs the ticker and maintenance.
-- Functions are executable by PUBLIC by default, so everything not public is revoked first.

GRANT USAGE ON SCHEMA pgq TO public;

GRANT SELECT ON pgq.consumer, pgq.queue, pgq.tick, pgq.subscription TO public, pgq_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgq.consumer, pgq.queue, pgq.tick, pgq.subscription TO pgq_admin;
REVOKE ALL ON pgq.event_template FROM public;
GRANT SELECT ON pgq.event_template TO pgq_reader;
GRANT SELECT, INSERT, TRUNCATE ON pgq.event_template TO pgq_admin;
REVOKE ALL ON pgq.retry_queue FROM public;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgq.retry_queue TO pgq_admin;

-- grant_fns(role, signatures): revoke from PUBLIC unless role is public, then grant EXECUTE.
DO $grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT * FROM (VALUES
            ('public', ARRAY[
                'pgq.seq_getval(text)', 'pgq.quote_fqname(text)', 'pgq.version()']),
            ('pgq_writer', ARRAY[
                'pgq.insert_event(text,text,text)', 'pgq.insert_event(text,text,text,text,text,text,text)',
                'pgq.current_event_table(text)']),
            ('pgq_admin', ARRAY[
                'pgq.ticker(text,bigint,timestamptz,bigint)', 'pgq.ticker(text)', 'pgq.ticker()',
                'pgq.upgrade_schema()', 'pgq.grant_perms(text)', 'pgq._grant_perms_from(text,text,text,text)',
                'pgq.tune_storage(text)', 'pgq.seq_setval(text,int8)', 'pgq.create_queue(text)',
                'pgq.drop_queue(text,bool)', 'pgq.drop_queue(text)', 'pgq.set_queue_config(text,text,text)',
                'pgq.insert_event_raw(text,bigint,timestamptz,integer,integer,text,text,text,text,text,text)'])
        ) AS t(role, fns)
    LOOP
        FOR i IN 1 .. array_length(g.fns, 1) LOOP
            IF g.role <> 'public' THEN
                EXECUTE format('REVOKE ALL ON FUNCTION %s FROM public', g.fns[i]);
            END IF;
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', g.fns[i], g.role);
        END LOOP;
    END LOOP;
END
$grants$;
