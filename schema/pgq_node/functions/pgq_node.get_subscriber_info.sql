-- pgq_node.get_subscriber_info(queue): the nodes reading this node's queue, with their workers
-- and subtree watermarks.
CREATE OR REPLACE FUNCTION pgq_node.get_subscriber_info(
    IN i_queue_name text,
    OUT node_name text, OUT worker_name text, OUT node_watermark int8)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER
AS $$
    SELECT s.subscriber_node, s.worker_name,
           (SELECT c.last_tick FROM pgq.get_consumer_info(i_queue_name, s.watermark_name) c)
      FROM pgq_node.subscriber_info s WHERE s.queue_name = i_queue_name ORDER BY 1
$$;
