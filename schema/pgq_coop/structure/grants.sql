-- Privileges, as upstream's pgq_coop grants them: consumers (pgq_reader) use every function,
-- everyone may ask the version.
GRANT USAGE ON SCHEMA pgq_coop TO public;

DO $grants$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'pgq_coop.register_subconsumer(text,text,text)',
        'pgq_coop.unregister_subconsumer(text,text,text,integer)',
        'pgq_coop.next_batch(text,text,text)',
        'pgq_coop.next_batch(text,text,text,interval)',
        'pgq_coop.next_batch_custom(text,text,text,interval,int4,interval)',
        'pgq_coop.next_batch_custom(text,text,text,interval,int4,interval,interval)',
        'pgq_coop.finish_batch(bigint)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM public', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pgq_reader', f);
    END LOOP;
END
$grants$;
GRANT EXECUTE ON FUNCTION pgq_coop.version() TO public;
