-- pgq_ext.is_event_done(consumer, [subconsumer,] batch_id, event_id): was this event of the
-- batch already applied?
CREATE OR REPLACE FUNCTION pgq_ext.is_event_done(a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_id bigint)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT EXISTS (SELECT 1 FROM pgq_ext.completed_event
                    WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer
                      AND batch_id = a_batch_id AND event_id = a_event_id)
$$;

CREATE OR REPLACE FUNCTION pgq_ext.is_event_done(a_consumer text, a_batch_id bigint, a_event_id bigint)
RETURNS boolean
LANGUAGE sql
AS $$ SELECT pgq_ext.is_event_done(a_consumer, '', a_batch_id, a_event_id) $$;
