-- pgq_node.set_consumer_uptodate(queue, consumer, flag): the worker has seen the latest state change.
CREATE OR REPLACE FUNCTION pgq_node.set_consumer_uptodate(
    IN i_queue_name text, IN i_consumer_name text, IN i_uptodate boolean,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    UPDATE pgq_node.local_state SET uptodate = i_uptodate
     WHERE queue_name = i_queue_name AND consumer_name = i_consumer_name;
    IF FOUND THEN
        ret_code := 200;
        ret_note := 'Consumer uptodate = ' || i_uptodate::int4::text;
    ELSE
        ret_code := 404;
        ret_note := 'Consumer not known: ' || i_queue_name || '/' || i_consumer_name;
    END IF;
END;
$$;
