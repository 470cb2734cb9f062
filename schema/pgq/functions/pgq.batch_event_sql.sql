-- pgq.batch_event_sql(batch_id): the SELECT that returns the batch's events ordered by ev_id:
-- those between the two ticks the batch spans, as its consumer sees them (pgq._tick_range_sql).
CREATE OR REPLACE FUNCTION pgq.batch_event_sql(x_batch_id bigint)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    s       record;
    v_sql   text;
BEGIN
    SELECT sub_id, sub_queue, sub_last_tick, sub_next_tick INTO s
      FROM pgq.subscription sub
     WHERE sub_batch = x_batch_id
       AND EXISTS (SELECT FROM pgq.tick WHERE tick_queue = sub.sub_queue AND tick_id = sub.sub_last_tick)
       AND EXISTS (SELECT FROM pgq.tick WHERE tick_queue = sub.sub_queue AND tick_id = sub.sub_next_tick);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch not found';
    END IF;
    v_sql := pgq._tick_range_sql(s.sub_queue, s.sub_id, s.sub_last_tick, s.sub_next_tick);
    IF v_sql IS NULL THEN
        RAISE EXCEPTION 'could not construct sql for batch %', x_batch_id;
    END IF;
    RETURN v_sql;
END;
$$;
