-- pgq._tick_range_sql(queue_id, sub_id, prev_tick, cur_tick): internal; the SELECT that returns,
-- ordered by ev_id, the events between two ticks of a queue as subscription sub_id sees them
-- (what pgq.batch_event_sql answers for a batch); NULL when a tick is missing.
--
-- The range holds the events of transactions visible in the closing tick's snapshot and not in
-- the opening one: txids from the opening snapshot's xmax up to the closing xmax, plus the
-- transactions that were still running at the opening tick and finished since. The latter are
-- folded into the txid range when they are close to it and listed one by one otherwise, so
-- both parts can use the ev_txid index. Retried events are returned only to their owner.
CREATE OR REPLACE FUNCTION pgq._tick_range_sql(i_queue_id int4, i_sub_id int4, i_prev_tick int8, i_cur_tick int8)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    b           record;
    v_lo        bigint;
    v_listed    text := '';
    v_xid       bigint;
    v_cols      text := 'SELECT ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4';
    v_owner     text;
    v_tbl       text;
    v_part      text;
    v_sql       text := '';
BEGIN
    SELECT prev.tick_snapshot AS prev_snap, cur.tick_snapshot AS cur_snap,
           txid_snapshot_xmax(prev.tick_snapshot) AS prev_xmax,
           txid_snapshot_xmax(cur.tick_snapshot) AS cur_xmax
      INTO b
      FROM pgq.tick prev
      JOIN pgq.tick cur ON cur.tick_queue = prev.tick_queue AND cur.tick_id = i_cur_tick
     WHERE prev.tick_queue = i_queue_id AND prev.tick_id = i_prev_tick;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    v_lo := b.prev_xmax;
    -- transactions running at the opening tick and finished by the closing one, newest first
    FOR v_xid IN
        SELECT x FROM txid_snapshot_xip(b.prev_snap) x
         WHERE NOT txid_visible_in_snapshot(x, b.prev_snap) AND txid_visible_in_snapshot(x, b.cur_snap)
         ORDER BY x DESC
    LOOP
        IF v_xid >= v_lo - 100 THEN
            v_lo := v_xid;
        ELSE
            v_listed := v_listed || CASE WHEN v_listed = '' THEN '' ELSE ',' END || v_xid;
        END IF;
    END LOOP;

    v_owner := ' AND (ev_owner IS NULL OR ev_owner = ' || i_sub_id || ')';
    FOR v_tbl IN SELECT pgq.quote_fqname(t) FROM pgq._tick_range_tables(i_queue_id, i_prev_tick, i_cur_tick) t LOOP
        v_part := v_cols || ' FROM ' || v_tbl
            || ' WHERE ev_txid >= ' || v_lo || ' AND ev_txid <= ' || b.cur_xmax
            || ' AND txid_visible_in_snapshot(ev_txid, ' || quote_literal(b.cur_snap::text) || ')'
            || ' AND NOT txid_visible_in_snapshot(ev_txid, ' || quote_literal(b.prev_snap::text) || ')'
            || v_owner;
        IF v_listed <> '' THEN
            v_part := v_part || ' UNION ALL ' || v_cols || ' FROM ' || v_tbl
                || ' WHERE ev_txid IN (' || v_listed || ')' || v_owner;
        END IF;
        v_sql := v_sql || CASE WHEN v_sql = '' THEN '' ELSE ' UNION ALL ' END || v_part;
    END LOOP;
    IF v_sql = '' THEN
        RETURN NULL;
    END IF;
    RETURN v_sql || ' ORDER BY 1';
END;
$$;
