-- pgq_ext.get_last_tick(consumer [, subconsumer]): the last tick recorded as applied, or NULL.
CREATE OR REPLACE FUNCTION pgq_ext.get_last_tick(a_consumer text, a_subconsumer text)
RETURNS int8
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT last_tick_id FROM pgq_ext.completed_tick
     WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer
$$;

CREATE OR REPLACE FUNCTION pgq_ext.get_last_tick(a_consumer text)
RETURNS int8
LANGUAGE sql
AS $$ SELECT pgq_ext.get_last_tick(a_consumer, '') $$;
