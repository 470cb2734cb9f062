-- pgq.batch_event_tables(batch_id): the event tables that may hold the batch's events (those of
-- the ticks it spans: pgq._tick_range_tables).
CREATE OR REPLACE FUNCTION pgq.batch_event_tables(x_batch_id bigint)
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
    s       record;
    v_tbl   text;
    v_found boolean := false;
BEGIN
    SELECT sub_queue, sub_last_tick, sub_next_tick INTO s
      FROM pgq.subscription
     WHERE sub_batch = x_batch_id;
    IF FOUND THEN
        FOR v_tbl IN SELECT t FROM pgq._tick_range_tables(s.sub_queue, s.sub_last_tick, s.sub_next_tick) t LOOP
            v_found := true;
            RETURN NEXT v_tbl;
        END LOOP;
    END IF;
    IF NOT v_found THEN
        RAISE EXCEPTION 'Cannot find data for batch %', x_batch_id;
    END IF;
END;
$$;
