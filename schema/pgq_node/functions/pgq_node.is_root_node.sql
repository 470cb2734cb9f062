-- pgq_node.is_root_node(queue): is this database the queue's root? Error when it is no node.
CREATE OR REPLACE FUNCTION pgq_node.is_root_node(i_queue_name text)
RETURNS bool
LANGUAGE sql STABLE
AS $$ SELECT pgq_node._node_type(i_queue_name) = 'root' $$;
