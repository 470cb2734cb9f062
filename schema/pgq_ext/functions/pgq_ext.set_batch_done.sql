-- pgq_ext.set_batch_done(consumer, [subconsumer,] batch_id): record the batch as applied.
-- Returns false when it already was (the caller should then roll back its work).
CREATE OR REPLACE FUNCTION pgq_ext.set_batch_done(a_consumer text, a_subconsumer text, a_batch_id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    IF pgq_ext.is_batch_done(a_consumer, a_subconsumer, a_batch_id) THEN
        RETURN false;
    END IF;
    IF a_batch_id > 0 THEN
        UPDATE pgq_ext.completed_batch SET last_batch_id = a_batch_id
         WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer;
        IF NOT FOUND THEN
            INSERT INTO pgq_ext.completed_batch (consumer_id, subconsumer_id, last_batch_id)
            VALUES (a_consumer, a_subconsumer, a_batch_id);
        END IF;
    END IF;
    RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION pgq_ext.set_batch_done(a_consumer text, a_batch_id bigint)
RETURNS boolean
LANGUAGE sql
AS $$ SELECT pgq_ext.set_batch_done(a_consumer, '', a_batch_id) $$;
