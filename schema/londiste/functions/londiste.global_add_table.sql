-- londiste.global_add_table(queue, table): record that the queue carries a table (not yet
-- replicated here). Called on the root by local_add_table and on subscribers when the root
-- announces the table.
CREATE OR REPLACE FUNCTION londiste.global_add_table(
    IN i_queue_name text, IN i_table_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fq        text := londiste.make_fqname(i_table_name);
    v_combined  text;
BEGIN
    SELECT combined_queue INTO v_combined FROM pgq_node.node_info WHERE queue_name = i_queue_name FOR UPDATE;
    IF NOT FOUND THEN
        ret_code := 400;
        ret_note := 'No such queue: ' || i_queue_name;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM londiste.table_info WHERE queue_name = i_queue_name AND table_name = v_fq) THEN
        ret_code := 200;
        ret_note := 'Table already added: ' || v_fq;
        RETURN;
    END IF;
    INSERT INTO londiste.table_info (queue_name, table_name) VALUES (i_queue_name, v_fq);
    ret_code := 200;
    ret_note := 'Table added: ' || i_table_name;
    IF v_combined IS NOT NULL THEN
        PERFORM londiste.global_add_table(v_combined, i_table_name);
    END IF;
END;
$$;
