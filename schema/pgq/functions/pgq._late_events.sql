-- pgq._late_events(data_pfx, xmax, xip): does the queue hold committed events of transactions
-- that were running when a tick was taken (txids listed in its snapshot, or from its xmax on)?
-- Those were numbered before that tick but belong to the next one: pgq.ticker announces a tick
-- that would otherwise look idle when it has them. Index probes on ev_txid of the event tables.
CREATE OR REPLACE FUNCTION pgq._late_events(i_data_pfx text, i_xmax bigint, i_xip bigint[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_found boolean;
BEGIN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || pgq.quote_fqname(i_data_pfx)
         || ' WHERE ev_txid >= $1 OR ev_txid = ANY ($2))'
       INTO v_found USING i_xmax, i_xip;
    RETURN v_found;
END;
$$;
