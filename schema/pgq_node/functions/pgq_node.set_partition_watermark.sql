-- pgq_node.set_partition_watermark(combined_queue, part_queue, tick): on a branch that merges
-- several partition queues, record how far the leaf worker of one partition got.
CREATE OR REPLACE FUNCTION pgq_node.set_partition_watermark(
    IN i_combined_queue_name text, IN i_part_queue_name text, IN i_watermark bigint,
    OUT ret_code int4, OUT ret_note text)
RETURNS record
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    v_worker text;
BEGIN
    SELECT p.worker_name INTO v_worker
      FROM pgq_node.node_info c JOIN pgq_node.node_info p ON p.combined_queue = c.queue_name
     WHERE p.queue_name = i_part_queue_name AND c.queue_name = i_combined_queue_name
       AND p.node_type = 'leaf' AND c.node_type = 'branch';
    IF NOT FOUND THEN
        ret_code := 201;
        ret_note := 'Part-queue does not exist';
        RETURN;
    END IF;
    UPDATE pgq_node.local_state SET last_tick_id = i_watermark
     WHERE queue_name = i_part_queue_name AND consumer_name = v_worker;
    IF NOT FOUND THEN
        ret_code := 401;
        ret_note := 'Worker registration not found';
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Ok';
END;
$$;
