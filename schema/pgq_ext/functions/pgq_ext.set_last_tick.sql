-- pgq_ext.set_last_tick(consumer, [subconsumer,] tick_id): record the last applied tick;
-- NULL forgets the consumer. Returns 1.
CREATE OR REPLACE FUNCTION pgq_ext.set_last_tick(a_consumer text, a_subconsumer text, a_tick_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    IF a_tick_id IS NULL THEN
        DELETE FROM pgq_ext.completed_tick WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer;
        RETURN 1;
    END IF;
    UPDATE pgq_ext.completed_tick SET last_tick_id = a_tick_id
     WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer;
    IF NOT FOUND THEN
        INSERT INTO pgq_ext.completed_tick (consumer_id, subconsumer_id, last_tick_id)
        VALUES (a_consumer, a_subconsumer, a_tick_id);
    END IF;
    RETURN 1;
END;
$$;

CREATE OR REPLACE FUNCTION pgq_ext.set_last_tick(a_consumer text, a_tick_id bigint)
RETURNS integer
LANGUAGE sql
AS $$ SELECT pgq_ext.set_last_tick(a_consumer, '', a_tick_id) $$;
