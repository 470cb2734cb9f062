-- londiste.local_add_seq(queue, seq): replicate a sequence. On the root it is published
-- (with headroom) from now on; elsewhere it is set to the last published value at once.
CREATE OR REPLACE FUNCTION londiste.local_add_seq(
    IN i_queue_name text, IN i_seq_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_fq    text := londiste.make_fqname(i_seq_name);
    v_seq   record;
BEGIN
    IF londiste.find_seq_oid(v_fq) IS NULL THEN
        ret_code := 400;
        ret_note := 'Sequence not found: ' || v_fq;
        RETURN;
    END IF;
    SELECT local, last_value INTO v_seq FROM londiste.seq_info
     WHERE queue_name = i_queue_name AND seq_name = v_fq FOR UPDATE;
    IF FOUND AND v_seq.local THEN
        ret_code := 201;
        ret_note := 'Sequence already added: ' || v_fq;
        RETURN;
    END IF;
    IF pgq_node.is_root_node(i_queue_name) THEN
        IF FOUND THEN
            UPDATE londiste.seq_info SET local = true WHERE queue_name = i_queue_name AND seq_name = v_fq;
        ELSE
            INSERT INTO londiste.seq_info (queue_name, seq_name, local, last_value) VALUES (i_queue_name, v_fq, true, 0);
        END IF;
        PERFORM * FROM londiste.root_check_seqs(i_queue_name);
    ELSE
        IF NOT FOUND THEN
            ret_code := 404;
            ret_note := 'Unknown sequence: ' || v_fq;
            RETURN;
        END IF;
        UPDATE londiste.seq_info SET local = true WHERE queue_name = i_queue_name AND seq_name = v_fq;
        PERFORM pgq.seq_setval(v_fq, v_seq.last_value);
    END IF;
    ret_code := 200;
    ret_note := 'Sequence added: ' || v_fq;
END;
$$;
