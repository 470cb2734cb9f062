-- pgq._tick_has_events(data_pfx, snapshot): does the queue hold committed events that the
-- snapshot of its last tick did not see (transactions that committed since, including those
-- that were running then with events numbered before it)? They make up the next tick's batch:
-- pgq.ticker announces a tick that looks idle, or a quiet one, only when there are some.
-- An index range scan on ev_txid of the event tables from the snapshot's xmin on.
CREATE OR REPLACE FUNCTION pgq._tick_has_events(i_data_pfx text, i_snapshot txid_snapshot)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_found boolean;
BEGIN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || pgq.quote_fqname(i_data_pfx)
         || ' WHERE ev_txid >= txid_snapshot_xmin($1) AND NOT txid_visible_in_snapshot(ev_txid, $1))'
       INTO v_found USING i_snapshot;
    RETURN v_found;
END;
$$;
