-- pgq_node.set_consumer_paused(queue, consumer, flag): ask the worker to pause or resume; it
-- confirms with set_consumer_uptodate.
CREATE OR REPLACE FUNCTION pgq_node.set_consumer_paused(
    IN i_queue_name text, IN i_consumer_name text, IN i_paused boolean,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_old   boolean;
    v_word  text := CASE WHEN i_paused THEN 'paused' ELSE 'resumed' END;
BEGIN
    SELECT paused INTO v_old FROM pgq_node.local_state
     WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Unknown consumer: ' || i_consumer_name;
    ELSIF v_old = i_paused THEN
        ret_code := 201;
        ret_note := 'Consumer ' || i_consumer_name || ' already ' || v_word;
    ELSE
        UPDATE pgq_node.local_state SET paused = i_paused, uptodate = false
         WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
        ret_code := 200;
        ret_note := 'Consumer ' || i_consumer_name || ' tagged as ' || v_word;
    END IF;
END;
$$;
