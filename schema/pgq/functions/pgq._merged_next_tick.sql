-- pgq._merged_next_tick(queue_id, after_tick, after_seq, max_events): internal; the tick a merged
-- batch starting at after_tick (whose event position is after_seq) ends at: the newest pending
-- tick within max_events events (empty ticks merge too), else the next one alone. No row: no
-- tick after after_tick yet.
CREATE OR REPLACE FUNCTION pgq._merged_next_tick(
    IN i_queue_id int4, IN i_after_tick int8, IN i_after_seq int8, IN i_max_events int8,
    OUT tick_id int8, OUT tick_time timestamptz, OUT tick_event_seq int8)
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
    SELECT t.tick_id, t.tick_time, t.tick_event_seq
      FROM pgq.tick t
     WHERE t.tick_queue = i_queue_id AND t.tick_id > i_after_tick
     ORDER BY (t.tick_event_seq - i_after_seq <= coalesce(i_max_events, 0)) DESC,
              CASE WHEN t.tick_event_seq - i_after_seq <= coalesce(i_max_events, 0) THEN -t.tick_id ELSE t.tick_id END
     LIMIT 1
$$;
