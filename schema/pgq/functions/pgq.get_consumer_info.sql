-- pgq.get_consumer_info([queue [, consumer]]): every subscription (or those of a queue, or one):
-- lag (age of the consumer's last finished tick), last_seen (since it last opened or finished a
-- batch), its position, open batch, and pending_events (an upper bound from the event sequence).
CREATE OR REPLACE FUNCTION pgq.get_consumer_info(
    IN i_queue_name text, IN i_consumer_name text,
    OUT queue_name text, OUT consumer_name text, OUT lag interval, OUT last_seen interval,
    OUT last_tick bigint, OUT current_batch bigint, OUT next_tick bigint, OUT pending_events bigint)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT q.queue_name, c.co_name,
           current_timestamp - t.tick_time,
           current_timestamp - s.sub_active,
           s.sub_last_tick, s.sub_batch, s.sub_next_tick,
           (SELECT top.tick_event_seq FROM pgq.tick top WHERE top.tick_queue = q.queue_id
             ORDER BY top.tick_queue DESC, top.tick_id DESC LIMIT 1) - t.tick_event_seq
      FROM pgq.subscription s
      JOIN pgq.queue q ON q.queue_id = s.sub_queue
      JOIN pgq.consumer c ON c.co_id = s.sub_consumer
      LEFT JOIN pgq.tick t ON t.tick_queue = s.sub_queue AND t.tick_id = s.sub_last_tick
     WHERE (i_queue_name IS NULL OR q.queue_name = i_queue_name)
       AND (i_consumer_name IS NULL OR c.co_name = i_consumer_name)
     ORDER BY 1, 2
$$;

CREATE OR REPLACE FUNCTION pgq.get_consumer_info(
    IN i_queue_name text,
    OUT queue_name text, OUT consumer_name text, OUT lag interval, OUT last_seen interval,
    OUT last_tick bigint, OUT current_batch bigint, OUT next_tick bigint, OUT pending_events bigint)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER
AS $$ SELECT * FROM pgq.get_consumer_info(i_queue_name, NULL) $$;

CREATE OR REPLACE FUNCTION pgq.get_consumer_info(
    OUT queue_name text, OUT consumer_name text, OUT lag interval, OUT last_seen interval,
    OUT last_tick bigint, OUT current_batch bigint, OUT next_tick bigint, OUT pending_events bigint)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER
AS $$ SELECT * FROM pgq.get_consumer_info(NULL, NULL) $$;
