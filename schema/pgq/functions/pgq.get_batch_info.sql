-- pgq.get_batch_info(batch_id): what an open batch covers: its queue and consumer, the two
-- ticks with their times and event sequence positions, and how old the closing tick is.
CREATE OR REPLACE FUNCTION pgq.get_batch_info(
    IN x_batch_id bigint,
    OUT queue_name text, OUT consumer_name text,
    OUT batch_start timestamptz, OUT batch_end timestamptz,
    OUT prev_tick_id bigint, OUT tick_id bigint, OUT lag interval,
    OUT seq_start bigint, OUT seq_end bigint)
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT q.queue_name, c.co_name, prev.tick_time, cur.tick_time,
           s.sub_last_tick, s.sub_next_tick, current_timestamp - cur.tick_time,
           prev.tick_event_seq, cur.tick_event_seq
      FROM pgq.subscription s
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
      JOIN pgq.tick prev ON prev.tick_queue = s.sub_queue AND prev.tick_id = s.sub_last_tick
      JOIN pgq.tick cur ON cur.tick_queue = s.sub_queue AND cur.tick_id = s.sub_next_tick
     WHERE s.sub_batch = x_batch_id
$$;
