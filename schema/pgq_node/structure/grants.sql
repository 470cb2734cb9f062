-- Privileges as pgq_node 3.5 grants them: public may look, readers/writers use the remote
-- (provider-side) calls, pgq_admin runs everything.
GRANT USAGE ON SCHEMA pgq_node TO public;
GRANT SELECT ON pgq_node.node_location, pgq_node.node_info, pgq_node.local_state, pgq_node.subscriber_info TO pgq_reader, pgq_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgq_node.node_location, pgq_node.node_info, pgq_node.local_state, pgq_node.subscriber_info TO pgq_admin;

DO $grants$
DECLARE
    g record;
    r text;
BEGIN
    FOR g IN
        SELECT * FROM (VALUES
            ('{public}', ARRAY['pgq_node.is_root_node(text)', 'pgq_node.is_leaf_node(text)', 'pgq_node.version()']),
            ('{pgq_reader,pgq_writer,pgq_admin}', ARRAY[
                'pgq_node.get_consumer_info(text)', 'pgq_node.get_consumer_state(text,text)',
                'pgq_node.get_queue_locations(text)', 'pgq_node.get_node_info(text)', 'pgq_node.get_subscriber_info(text)',
                'pgq_node.register_subscriber(text,text,text,int8)', 'pgq_node.unregister_subscriber(text,text)',
                'pgq_node.set_subscriber_watermark(text,text,bigint)']),
            ('{pgq_writer,pgq_admin}', ARRAY[
                'pgq_node.register_consumer(text,text,text,int8)', 'pgq_node.unregister_consumer(text,text)',
                'pgq_node.change_consumer_provider(text,text,text)', 'pgq_node.set_consumer_uptodate(text,text,boolean)',
                'pgq_node.set_consumer_paused(text,text,boolean)', 'pgq_node.set_consumer_completed(text,text,int8)',
                'pgq_node.set_consumer_error(text,text,text)']),
            ('{pgq_admin}', ARRAY[
                'pgq_node.register_location(text,text,text,boolean)', 'pgq_node.unregister_location(text,text)',
                'pgq_node.upgrade_schema()', 'pgq_node.maint_watermark(text)', 'pgq_node.create_node(text,text,text,text,text,bigint,text)',
                'pgq_node.drop_node(text,text)', 'pgq_node.demote_root(text,int4,text)', 'pgq_node.promote_branch(text)',
                'pgq_node.set_node_attrs(text,text)', 'pgq_node.get_worker_state(text)', 'pgq_node.set_global_watermark(text,bigint)',
                'pgq_node.set_partition_watermark(text,text,bigint)', 'pgq_node.rename_node(text,text,text)'])
        ) AS t(roles, fns)
    LOOP
        FOR i IN 1 .. array_length(g.fns, 1) LOOP
            IF g.roles <> '{public}' THEN
                EXECUTE format('REVOKE ALL ON FUNCTION %s FROM public', g.fns[i]);
            END IF;
            FOREACH r IN ARRAY g.roles::text[] LOOP
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', g.fns[i], r);
            END LOOP;
        END LOOP;
    END LOOP;
END
$grants$;
