-- pgq.get_queue_info([queue]): settings and live figures of every queue (or one): how old the
-- last tick is (ticker_lag), events per second over the last 20 ticks, events not yet covered by
-- a tick (ev_new) and the last tick id.
CREATE OR REPLACE FUNCTION pgq.get_queue_info(
    IN i_queue_name text,
    OUT queue_name text, OUT queue_ntables integer, OUT queue_cur_table integer,
    OUT queue_rotation_period interval, OUT queue_switch_time timestamptz,
    OUT queue_external_ticker boolean, OUT queue_ticker_paused boolean,
    OUT queue_ticker_max_count integer, OUT queue_ticker_max_lag interval,
    OUT queue_ticker_idle_period interval,
    OUT ticker_lag interval, OUT ev_per_sec float8, OUT ev_new bigint, OUT last_tick_id bigint)
RETURNS SETOF record
LANGUAGE plpgsql
AS $$
DECLARE
    q       record;
    v_top   record;
    v_old   record;
BEGIN
    FOR q IN
        SELECT * FROM pgq.queue WHERE i_queue_name IS NULL OR pgq.queue.queue_name = i_queue_name ORDER BY pgq.queue.queue_name
    LOOP
        queue_name := q.queue_name;
        queue_ntables := q.queue_ntables;
        queue_cur_table := q.queue_cur_table;
        queue_rotation_period := q.queue_rotation_period;
        queue_switch_time := q.queue_switch_time;
        queue_external_ticker := q.queue_external_ticker;
        queue_ticker_paused := q.queue_ticker_paused;
        queue_ticker_max_count := q.queue_ticker_max_count;
        queue_ticker_max_lag := q.queue_ticker_max_lag;
        queue_ticker_idle_period := q.queue_ticker_idle_period;

        SELECT t.tick_id, t.tick_time, t.tick_event_seq INTO v_top
          FROM pgq.tick t WHERE t.tick_queue = q.queue_id
         ORDER BY t.tick_queue DESC, t.tick_id DESC LIMIT 1;
        SELECT t.tick_time, t.tick_event_seq INTO v_old
          FROM pgq.tick t WHERE t.tick_queue = q.queue_id AND t.tick_id >= v_top.tick_id - 20
         ORDER BY t.tick_queue, t.tick_id LIMIT 1;

        ticker_lag := current_timestamp - v_top.tick_time;
        ev_per_sec := CASE WHEN v_old.tick_time < v_top.tick_time
                           THEN (v_top.tick_event_seq - v_old.tick_event_seq)
                                / extract(epoch FROM v_top.tick_time - v_old.tick_time)
                      END;
        ev_new := pgq.seq_getval(q.queue_event_seq) - v_top.tick_event_seq;
        last_tick_id := v_top.tick_id;
        RETURN NEXT;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.get_queue_info(
    OUT queue_name text, OUT queue_ntables integer, OUT queue_cur_table integer,
    OUT queue_rotation_period interval, OUT queue_switch_time timestamptz,
    OUT queue_external_ticker boolean, OUT queue_ticker_paused boolean,
    OUT queue_ticker_max_count integer, OUT queue_ticker_max_lag interval,
    OUT queue_ticker_idle_period interval,
    OUT ticker_lag interval, OUT ev_per_sec float8, OUT ev_new bigint, OUT last_tick_id bigint)
RETURNS SETOF record
LANGUAGE sql
AS $$ SELECT * FROM pgq.get_queue_info(NULL::text) $$;
