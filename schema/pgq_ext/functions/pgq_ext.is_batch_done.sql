-- pgq_ext.is_batch_done(consumer, [subconsumer,] batch_id): was this batch already applied?
CREATE OR REPLACE FUNCTION pgq_ext.is_batch_done(a_consumer text, a_subconsumer text, a_batch_id bigint)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT coalesce((SELECT last_batch_id = a_batch_id FROM pgq_ext.completed_batch
                      WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer), false)
$$;

CREATE OR REPLACE FUNCTION pgq_ext.is_batch_done(a_consumer text, a_batch_id bigint)
RETURNS boolean
LANGUAGE sql
AS $$ SELECT pgq_ext.is_batch_done(a_consumer, '', a_batch_id) $$;
