-- londiste.global_remove_seq(queue, seq): the queue no longer carries the sequence (announced
-- to subscribers when done on the root).
CREATE OR REPLACE FUNCTION londiste.global_remove_seq(
    IN i_queue_name text, IN i_seq_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fq text := londiste.make_fqname(i_seq_name);
BEGIN
    DELETE FROM londiste.seq_info WHERE queue_name = i_queue_name AND seq_name = v_fq;
    IF NOT FOUND THEN
        ret_code := 400;
        ret_note := 'Sequence not found: ' || v_fq;
        RETURN;
    END IF;
    IF pgq_node.is_root_node(i_queue_name) THEN
        PERFORM londiste.root_notify_change(i_queue_name, 'londiste.remove-seq', v_fq);
    END IF;
    ret_code := 200;
    ret_note := 'Sequence removed: ' || v_fq;
END;
$$;
