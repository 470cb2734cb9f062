-- londiste.root_check_seqs(queue [, buffer]): on the root, publish sequence positions. A
-- sequence whose value came within `buffer` of the last published value is published again
-- `3 * buffer` ahead, so subscribers are always ahead of anything the root hands out.
CREATE OR REPLACE FUNCTION londiste.root_check_seqs(
    IN i_queue_name text, IN i_buffer int8,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_type      text;
    v_seq       record;
    v_real      int8;
    v_pub       int8;
    v_buffer    int8 := CASE WHEN i_buffer IS NULL OR i_buffer < 10 THEN 10000 ELSE i_buffer END;
BEGIN
    SELECT node_type INTO v_type FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'Queue not found: ' || i_queue_name;
        RETURN;
    END IF;
    IF v_type <> 'root' THEN
        ret_code := 402;
        ret_note := 'Not a root node';
        RETURN;
    END IF;
    FOR v_seq IN
        SELECT seq_name, last_value FROM londiste.seq_info WHERE queue_name = i_queue_name AND local ORDER BY nr
    LOOP
        EXECUTE 'SELECT last_value FROM ' || londiste.quote_fqname(v_seq.seq_name) INTO v_real;
        IF v_real + v_buffer >= v_seq.last_value THEN
            v_pub := v_real + v_buffer * 3;
            PERFORM pgq.insert_event(i_queue_name, 'londiste.update-seq', v_pub::text, v_seq.seq_name, NULL, NULL, NULL);
            UPDATE londiste.seq_info SET last_value = v_pub WHERE queue_name = i_queue_name AND seq_name = v_seq.seq_name;
        END IF;
    END LOOP;
    ret_code := 100;
    ret_note := 'Sequences updated';
END;
$$;

CREATE OR REPLACE FUNCTION londiste.root_check_seqs(
    IN i_queue_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE sql
AS $$ SELECT * FROM londiste.root_check_seqs(i_queue_name, 10000) $$;
