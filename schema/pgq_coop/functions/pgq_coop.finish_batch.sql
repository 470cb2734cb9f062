-- pgq_coop.finish_batch(batch_id): close a sub-consumer's batch. The position lives in the main
-- consumer's row, so the sub-consumer's row keeps no ticks. Returns 1, or 0 (with a warning)
-- when no subscription holds that batch.
CREATE OR REPLACE FUNCTION pgq_coop.finish_batch(i_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    UPDATE pgq.subscription
       SET sub_active = now(), sub_last_tick = NULL, sub_next_tick = NULL, sub_batch = NULL
     WHERE sub_batch = i_batch_id;
    IF NOT FOUND THEN
        RAISE WARNING 'coop_finish_batch: batch % not found', i_batch_id;
        RETURN 0;
    END IF;
    RETURN 1;
END;
$$;
