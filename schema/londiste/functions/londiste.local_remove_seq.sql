-- londiste.local_remove_seq(queue, seq): stop replicating a sequence here (on the root: for the
-- whole queue).
CREATE OR REPLACE FUNCTION londiste.local_remove_seq(
    IN i_queue_name text, IN i_seq_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fq text := londiste.make_fqname(i_seq_name);
BEGIN
    IF pgq_node.is_root_node(i_queue_name) THEN
        SELECT f.ret_code, f.ret_note INTO ret_code, ret_note FROM londiste.global_remove_seq(i_queue_name, v_fq) f;
        RETURN;
    END IF;
    UPDATE londiste.seq_info SET local = false WHERE queue_name = i_queue_name AND seq_name = v_fq AND local;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Sequence not found: ' || v_fq;
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Sequence removed: ' || v_fq;
END;
$$;
