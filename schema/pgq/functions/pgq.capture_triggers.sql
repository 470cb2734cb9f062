-- pgq.logutriga, pgq.jsontriga, pgq.sqltriga (queue [, args...]): the three capture triggers,
-- one event per changed row with
--   logutriga  urlencoded row data (ev_type 'I:pk1,pk2', ev_data col=value&...)
--   jsontriga  JSON row data (ev_type a JSON object with op, table and pkey)
--   sqltriga   SQL fragments (ev_type 'I'/'U'/'D', ev_data the VALUES / SET / WHERE part)
-- and ev_extra1 the table name; AFTER/BEFORE ... FOR EACH ROW, or FOR EACH STATEMENT on
-- TRUNCATE. Arguments as upstream: SKIP, ignore=cols, pkey=cols, backup, deny, when=expr,
-- ev_type=expr, ev_extra1..4=expr. Nothing is logged while session_replication_role is 'local'
-- (in 'replica' PostgreSQL itself does not fire them). The three differ only in the encoding,
-- so they are created from one body.
DO $create$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('logutriga', 'urlenc'), ('jsontriga', 'json'), ('sqltriga', 'sql')) AS x(name, fmt) LOOP
        EXECUTE format($tmpl$
CREATE OR REPLACE FUNCTION pgq.%1$s()
RETURNS trigger
LANGUAGE plpgsql
AS $body$
DECLARE
    ev      record;
    -- TG_ARGV counts from 0; a slice renumbers from 1
    v_args  text[] := TG_ARGV[0:TG_NARGS - 1];
BEGIN
    IF TG_NARGS < 1 THEN
        RAISE EXCEPTION 'pgq trigger must have destination queue as argument';
    END IF;
    IF current_setting('session_replication_role') <> 'local' THEN
        IF TG_OP = 'TRUNCATE' THEN
            ev := pgq._capture(%2$L, TG_OP, TG_RELID, TG_WHEN, TG_LEVEL, v_args, NULL::text, NULL::text);
        ELSIF TG_LEVEL <> 'ROW' THEN
            RAISE EXCEPTION 'pgq Ins/Upd/Del trigger must be fired FOR EACH ROW';
        ELSIF TG_OP = 'INSERT' THEN
            ev := pgq._capture(%2$L, TG_OP, TG_RELID, TG_WHEN, TG_LEVEL, v_args, NEW, NEW);
        ELSIF TG_OP = 'UPDATE' THEN
            ev := pgq._capture(%2$L, TG_OP, TG_RELID, TG_WHEN, TG_LEVEL, v_args, NEW, OLD);
        ELSE
            ev := pgq._capture(%2$L, TG_OP, TG_RELID, TG_WHEN, TG_LEVEL, v_args, OLD, OLD);
        END IF;
        IF ev.ev_type IS NOT NULL THEN
            PERFORM pgq.insert_event(v_args[1], ev.ev_type, ev.ev_data, ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4);
        END IF;
        IF 'SKIP' = ANY (v_args[2:]) THEN
            RETURN NULL;
        END IF;
    END IF;
    IF TG_WHEN = 'AFTER' OR TG_LEVEL <> 'ROW' THEN
        RETURN NULL;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$body$;
$tmpl$, t.name, t.fmt);
    END LOOP;
END
$create$;
