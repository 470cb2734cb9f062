-- londiste.global_remove_table(queue, table): the queue no longer carries the table.
CREATE OR REPLACE FUNCTION londiste.global_remove_table(
    IN i_queue_name text, IN i_table_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fq text := londiste.make_fqname(i_table_name);
BEGIN
    IF NOT pgq_node.is_root_node(i_queue_name) THEN
        PERFORM londiste.local_remove_table(i_queue_name, v_fq);
    END IF;
    DELETE FROM londiste.table_info WHERE queue_name = i_queue_name AND table_name = v_fq;
    IF NOT FOUND THEN
        ret_code := 400;
        ret_note := 'Table not found: ' || v_fq;
        RETURN;
    END IF;
    ret_code := 200;
    ret_note := 'Table removed: ' || i_table_name;
END;
$$;
