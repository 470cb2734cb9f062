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
REVOKE ALL ON pgq.failed_queue FROM public;
GRANT SELECT ON pgq.failed_queue TO pgq_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgq.failed_queue TO pgq_admin;

-- grant_fns(role, signatures): revoke from PUBLIC unless role is public, then grant EXECUTE.
DO $grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT * FROM (VALUES
            ('public', ARRAY[
                'pgq.seq_getval(text)', 'pgq.quote_fqname(text)', 'pgq.version()',
                'pgq.get_queue_info()', 'pgq.get_queue_info(text)', 'pgq.get_consumer_info()',
                'pgq.get_consumer_info(text)', 'pgq.get_consumer_info(text,text)']),
            ('pgq_reader', ARRAY[
                'pgq.batch_event_sql(bigint)', 'pgq.batch_event_tables(bigint)',
                'pgq.find_tick_helper(int4,int8,timestamptz,int8,int8,interval)',
                'pgq.register_consumer(text,text)', 'pgq.register_consumer_at(text,text,bigint)',
                'pgq.unregister_consumer(text,text)', 'pgq.next_batch_info(text,text)', 'pgq.next_batch(text,text)',
                'pgq.next_batch_custom(text,text,interval,int4,interval)', 'pgq.next_batch_merged(text,text,int8)',
                'pgq.peek_next_batch(text,text,int8)',
                'pgq.get_batch_events(bigint)',
                'pgq.get_batch_info(bigint)', 'pgq.get_batch_cursor(bigint,text,int4,text)',
                'pgq.get_batch_cursor(bigint,text,int4)', 'pgq.event_retry(bigint,bigint,timestamptz)',
                'pgq.event_retry(bigint,bigint,integer)', 'pgq.batch_retry(bigint,integer)',
                'pgq.force_tick(text)', 'pgq.finish_batch(bigint)',
                'pgq.event_failed(bigint,bigint,text)', 'pgq.failed_event_list(text,text)',
                'pgq.failed_event_list(text,text,integer,integer)', 'pgq.failed_event_count(text,text)',
                'pgq.failed_event_delete(text,text,bigint)', 'pgq.failed_event_retry(text,text,bigint)']),
            ('pgq_writer', ARRAY[
                'pgq.insert_event(text,text,text)', 'pgq.insert_event(text,text,text,text,text,text,text)',
                'pgq.current_event_table(text)', 'pgq.logutriga()', 'pgq.jsontriga()', 'pgq.sqltriga()']),
            ('pgq_admin', ARRAY[
                'pgq.ticker(text,bigint,timestamptz,bigint)', 'pgq.ticker(text)', 'pgq.ticker()', 'pgq._tick_has_events(text,txid_snapshot)',
                'pgq.maint_retry_events()', 'pgq.maint_rotate_tables_step1(text)', 'pgq.maint_rotate_tables_step2()',
                'pgq.maint_tables_to_vacuum()', 'pgq.maint_operations()',
                'pgq.event_retry_raw(text,text,timestamptz,bigint,timestamptz,integer,text,text,text,text,text,text)',
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
