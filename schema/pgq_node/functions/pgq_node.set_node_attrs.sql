-- pgq_node.set_node_attrs(queue, attrs): replace the node's urlencoded attributes.
CREATE OR REPLACE FUNCTION pgq_node.set_node_attrs(
    IN i_queue_name text, IN i_node_attrs text,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    UPDATE pgq_node.node_info SET node_attrs = i_node_attrs WHERE queue_name = i_queue_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Node not found';
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Node attributes updated';
END;
$$;
