-- pgq.create_queue(queue_name): create a queue with its event tables and first tick.
-- Returns 1 when created, 0 when a queue of that name already exists.
--
-- Layout: pgq.event_<id> inherits pgq.event_template; pgq.event_<id>_0 .. _<ntables-1> inherit
-- from it and hold the data, one at a time receiving inserts (rotation truncates old ones).
CREATE OR REPLACE FUNCTION pgq.create_queue(i_queue_name text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_id        integer;
    v_parent    text;
    v_ev_seq    text;
    v_tick_seq  text;
    v_child     text;
    v_ntables   integer;
BEGIN
    IF i_queue_name IS NULL THEN
        RAISE EXCEPTION 'Invalid NULL value';
    END IF;
    IF EXISTS (SELECT 1 FROM pgq.queue WHERE queue_name = i_queue_name) THEN
        RETURN 0;
    END IF;

    v_id := nextval('pgq.queue_queue_id_seq');
    v_parent := 'pgq.event_' || v_id;
    v_ev_seq := 'pgq.event_' || v_id || '_id_seq';
    v_tick_seq := 'pgq.event_' || v_id || '_tick_seq';

    INSERT INTO pgq.queue (queue_id, queue_name, queue_data_pfx, queue_event_seq, queue_tick_seq)
    VALUES (v_id, i_queue_name, v_parent, v_ev_seq, v_tick_seq)
    RETURNING queue_ntables INTO v_ntables;

    EXECUTE 'CREATE SEQUENCE ' || pgq.quote_fqname(v_tick_seq);
    EXECUTE 'CREATE SEQUENCE ' || pgq.quote_fqname(v_ev_seq);
    EXECUTE 'CREATE TABLE ' || pgq.quote_fqname(v_parent) || ' () INHERITS (pgq.event_template)';
    FOR i IN 0 .. v_ntables - 1 LOOP
        v_child := v_parent || '_' || i;
        EXECUTE 'CREATE TABLE ' || pgq.quote_fqname(v_child) || ' () INHERITS (' || pgq.quote_fqname(v_parent) || ')';
        EXECUTE 'ALTER TABLE ' || pgq.quote_fqname(v_child)
             || ' ALTER COLUMN ev_id SET DEFAULT nextval(' || quote_literal(v_ev_seq) || ')';
        -- batch reads select by transaction id ranges
        EXECUTE 'CREATE INDEX ' || quote_ident('event_' || v_id || '_' || i || '_txid_idx')
             || ' ON ' || pgq.quote_fqname(v_child) || ' (ev_txid)';
    END LOOP;

    PERFORM pgq.grant_perms(i_queue_name);
    PERFORM pgq.ticker(i_queue_name);
    PERFORM pgq.tune_storage(i_queue_name);
    RETURN 1;
END;
$$;
