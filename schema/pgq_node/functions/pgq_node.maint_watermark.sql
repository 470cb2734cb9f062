-- pgq_node.maint_watermark(queue): run by the ticker's maintenance on the root: refresh the
-- global watermark when the root worker has not done it for 5 minutes (it may not be running).
CREATE OR REPLACE FUNCTION pgq_node.maint_watermark(i_queue_name text)
RETURNS int4
LANGUAGE plpgsql
AS $$
DECLARE
    v_lag interval;
BEGIN
    PERFORM 1 FROM pgq_node.node_info WHERE queue_name = i_queue_name AND node_type = 'root' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    SELECT lag INTO v_lag FROM pgq.get_consumer_info(i_queue_name, '.global_watermark');
    IF v_lag >= interval '5 minutes' THEN
        PERFORM pgq_node.set_global_watermark(i_queue_name, NULL);
    END IF;
    RETURN 0;
END;
$$;
