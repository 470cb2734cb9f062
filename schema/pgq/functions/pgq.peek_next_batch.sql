-- pgq.peek_next_batch(queue, consumer, max_events): for a consumer with an open batch, the batch
-- pgq.next_batch_merged(queue, consumer, max_events) would open next were the open one finished
-- now: its ticks, their event positions and the closing tick's snapshot (what tells two ticks of
-- one id apart, should a provider that lost its last ticks have made new ones), how many events it
-- spans, and the SELECT that returns its events (as pgq.batch_event_sql would). All NULL when no
-- batch is open or no tick follows it yet. Nothing changes: a consumer reads ahead while it applies the open batch, and
-- keeps what it read only if the batch it then gets spans the same two ticks (newer ticks within
-- max_events may have come meanwhile). The events stay readable: they are newer than the
-- consumer's position, which keeps them from rotation.
-- Not in upstream PgQ.
CREATE OR REPLACE FUNCTION pgq.peek_next_batch(
    IN i_queue_name text, IN i_consumer_name text, IN i_max_events int8,
    OUT prev_tick_id int8, OUT cur_tick_id int8,
    OUT prev_tick_event_seq int8, OUT cur_tick_event_seq int8, OUT cur_tick_snapshot text,
    OUT events int8, OUT event_sql text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    s       record;
    v_sub   int4;
BEGIN
    SELECT * INTO s FROM pgq._consumer_position(i_queue_name, i_consumer_name);
    IF s.sub_batch IS NULL OR s.c_id IS NULL THEN
        RETURN;
    END IF;
    SELECT t.tick_id, t.tick_event_seq INTO cur_tick_id, cur_tick_event_seq
      FROM pgq._merged_next_tick(s.sub_queue, s.c_id, s.c_seq, i_max_events) t;
    IF cur_tick_id IS NULL THEN
        RETURN;
    END IF;
    SELECT sub_id INTO v_sub FROM pgq.subscription WHERE sub_queue = s.sub_queue AND sub_consumer = s.sub_consumer;
    prev_tick_id := s.c_id;
    prev_tick_event_seq := s.c_seq;
    SELECT tick_snapshot::text INTO cur_tick_snapshot FROM pgq.tick WHERE tick_queue = s.sub_queue AND tick_id = cur_tick_id;
    events := cur_tick_event_seq - s.c_seq;
    event_sql := pgq._tick_range_sql(s.sub_queue, v_sub, s.c_id, cur_tick_id);
END;
$$;
