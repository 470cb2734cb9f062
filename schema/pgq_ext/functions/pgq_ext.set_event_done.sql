-- pgq_ext.set_event_done(consumer, [subconsumer,] batch_id, event_id): record one event as
-- applied. Only the current batch's events are kept: starting a new batch forgets the old
-- one's. Returns false when the event was already recorded.
CREATE OR REPLACE FUNCTION pgq_ext.set_event_done(a_consumer text, a_subconsumer text, a_batch_id bigint, a_event_id bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_old   bigint;
BEGIN
    IF pgq_ext.is_event_done(a_consumer, a_subconsumer, a_batch_id, a_event_id) THEN
        RETURN false;
    END IF;
    SELECT cur_batch_id INTO v_old FROM pgq_ext.partial_batch
     WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer;
    IF NOT FOUND THEN
        INSERT INTO pgq_ext.partial_batch (consumer_id, subconsumer_id, cur_batch_id)
        VALUES (a_consumer, a_subconsumer, a_batch_id);
    ELSIF v_old <> a_batch_id THEN
        DELETE FROM pgq_ext.completed_event
         WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer AND batch_id = v_old;
        UPDATE pgq_ext.partial_batch SET cur_batch_id = a_batch_id
         WHERE consumer_id = a_consumer AND subconsumer_id = a_subconsumer;
    END IF;
    INSERT INTO pgq_ext.completed_event (consumer_id, subconsumer_id, batch_id, event_id)
    VALUES (a_consumer, a_subconsumer, a_batch_id, a_event_id);
    RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION pgq_ext.set_event_done(a_consumer text, a_batch_id bigint, a_event_id bigint)
RETURNS boolean
LANGUAGE sql
AS $$ SELECT pgq_ext.set_event_done(a_consumer, '', a_batch_id, a_event_id) $$;
