-- pgq.set_queue_config(queue, param, value): change one ticker/rotation setting of a queue.
-- param is the column name without its "queue_" prefix.
CREATE OR REPLACE FUNCTION pgq.set_queue_config(x_queue_name text, x_param_name text, x_param_value text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_col text;
BEGIN
    IF x_queue_name IS NULL OR x_param_name IS NULL THEN
        RAISE EXCEPTION 'Invalid NULL value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pgq.queue WHERE queue_name = x_queue_name) THEN
        RAISE EXCEPTION 'No such event queue';
    END IF;
    v_col := 'queue_' || x_param_name;
    IF v_col NOT IN ('queue_ticker_max_count', 'queue_ticker_max_lag', 'queue_ticker_idle_period',
                     'queue_ticker_paused', 'queue_rotation_period', 'queue_external_ticker',
                     -- not settable upstream; here so the limit needs no direct UPDATE
                     'queue_per_tx_limit') THEN
        -- upstream's message, including its stray "s"
        RAISE EXCEPTION 'cannot change parameter "%s"', x_param_name;
    END IF;
    EXECUTE format('UPDATE pgq.queue SET %I = %L WHERE queue_name = %L', v_col, x_param_value, x_queue_name);
    RETURN 1;
END;
$$;
