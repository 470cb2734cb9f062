-- pgq_node._node_type(queue): internal; the local node's type, or an error when there is none.
CREATE OR REPLACE FUNCTION pgq_node._node_type(i_queue_name text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_type text;
BEGIN
    SELECT n.node_type INTO v_type FROM pgq_node.node_info n WHERE n.queue_name = i_queue_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue does not exist: %', i_queue_name;
    END IF;
    RETURN v_type;
END;
$$;
