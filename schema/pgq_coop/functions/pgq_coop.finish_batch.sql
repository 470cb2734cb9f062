-- pgq_coop.finish_batch(batch_id): close a sub-consumer's batch. The position lives in the main
-- consumer's row, so the sub-consumer's row keeps no ticks. Returns 1, or 0 (with a warning)
-- when no subscription holds that batch. A plain consumer's batch is refused (upstream would
-- clear that consumer's position): pgq.finish_batch closes those.
CREATE OR REPLACE FUNCTION pgq_coop.finish_batch(i_batch_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pgq.subscription s JOIN pgq.consumer c ON c.co_id = s.sub_consumer
                WHERE s.sub_batch = i_batch_id
                  AND NOT EXISTS (SELECT 1 FROM pgq.subscription m JOIN pgq.consumer mc ON mc.co_id = m.sub_consumer
                                   WHERE m.sub_id = s.sub_id AND m.sub_queue = s.sub_queue AND m.sub_consumer <> s.sub_consumer
                                     AND left(c.co_name, length(mc.co_name) + 1) = mc.co_name || '.'))
    THEN
        RAISE EXCEPTION 'batch % is not a sub-consumer''s: close it with pgq.finish_batch', i_batch_id;
    END IF;
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
