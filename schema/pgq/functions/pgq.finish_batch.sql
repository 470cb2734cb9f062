-- pgq.finish_batch(batch_id): close a batch; the consumer's position moves to its closing tick.
-- Returns 1, or 0 with a warning when no such batch is open (already finished, for example).
CREATE OR REPLACE FUNCTION pgq.finish_batch(x_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    UPDATE pgq.subscription
       SET sub_last_tick = sub_next_tick, sub_next_tick = NULL, sub_batch = NULL, sub_active = now()
     WHERE sub_batch = x_batch_id;
    IF NOT FOUND THEN
        RAISE WARNING 'finish_batch: batch % not found', x_batch_id;
        RETURN 0;
    END IF;
    RETURN 1;
END;
$$;
