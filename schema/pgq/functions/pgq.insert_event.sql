-- pgq.insert_event(queue, type, data [, extra1..4]): publish one event in the caller's
-- transaction; returns its event id. Consumers see it in the first batch after commit.
CREATE OR REPLACE FUNCTION pgq.insert_event(queue_name text, ev_type text, ev_data text)
RETURNS bigint
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN pgq.insert_event(queue_name, ev_type, ev_data, NULL, NULL, NULL, NULL);
END;
$$;

CREATE OR REPLACE FUNCTION pgq.insert_event(
    queue_name text, ev_type text, ev_data text,
    ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    RETURN pgq.insert_event_raw(queue_name, NULL, now(), NULL, NULL,
                                ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4);
END;
$$;
