-- pgq.get_batch_events(batch_id): every event of an open batch, ordered by ev_id.
-- For big batches prefer pgq.get_batch_cursor, which does not materialise the whole batch.
CREATE OR REPLACE FUNCTION pgq.get_batch_events(
    IN x_batch_id bigint,
    OUT ev_id bigint, OUT ev_time timestamptz, OUT ev_txid bigint, OUT ev_retry int4,
    OUT ev_type text, OUT ev_data text,
    OUT ev_extra1 text, OUT ev_extra2 text, OUT ev_extra3 text, OUT ev_extra4 text)
RETURNS SETOF record
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY EXECUTE pgq.batch_event_sql(x_batch_id);
END;
$$;
