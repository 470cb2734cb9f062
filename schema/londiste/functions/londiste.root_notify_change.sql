-- londiste.root_notify_change(queue, type, data): announce a change of the queue's content
-- (londiste.add-table and friends) to every subscriber through the queue itself.
CREATE OR REPLACE FUNCTION londiste.root_notify_change(i_queue_name text, i_ev_type text, i_ev_data text)
RETURNS integer
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT coalesce(pgq_node.is_root_node(i_queue_name), false) THEN
        RAISE EXCEPTION 'only root node can send events';
    END IF;
    PERFORM pgq.insert_event(i_queue_name, i_ev_type, i_ev_data);
    RETURN 1;
END;
$$;
