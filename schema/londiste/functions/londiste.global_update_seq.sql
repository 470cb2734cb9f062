-- londiste.global_update_seq(queue, seq, value): on a subscriber, a sequence position published
-- by the root; applied at once to a replicated sequence (pgq.seq_setval never moves it back).
CREATE OR REPLACE FUNCTION londiste.global_update_seq(
    IN i_queue_name text, IN i_seq_name text, IN i_value int8,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_type  text;
    v_fq    text := londiste.make_fqname(i_seq_name);
    v_local boolean;
BEGIN
    SELECT node_type INTO v_type FROM pgq_node.node_info WHERE queue_name = i_queue_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Set not found: ' || i_queue_name;
        RETURN;
    END IF;
    IF v_type = 'root' THEN
        ret_code := 402;
        ret_note := 'Must not run on root node';
        RETURN;
    END IF;
    SELECT local INTO v_local FROM londiste.seq_info WHERE queue_name = i_queue_name AND seq_name = v_fq FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO londiste.seq_info (queue_name, seq_name, last_value) VALUES (i_queue_name, v_fq, i_value);
    ELSE
        UPDATE londiste.seq_info SET last_value = i_value WHERE queue_name = i_queue_name AND seq_name = v_fq;
        IF v_local THEN
            PERFORM pgq.seq_setval(v_fq, i_value);
        END IF;
    END IF;
    ret_code := 200;
    ret_note := 'Sequence updated';
END;
$$;
