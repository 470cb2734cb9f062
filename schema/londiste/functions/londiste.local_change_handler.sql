-- londiste.local_change_handler(queue, table, trigger_args, attrs): change a replicated table's
-- attributes (handler) and re-create its triggers to match.
CREATE OR REPLACE FUNCTION londiste.local_change_handler(
    IN i_queue_name text, IN i_table_name text, IN i_trg_args text[], IN i_table_attrs text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_node  record;
    v_dest  text;
    v_desc  text;
    r       record;
BEGIN
    SELECT * INTO v_node FROM pgq_node.get_node_info(i_queue_name);
    IF v_node.ret_code >= 400 THEN
        ret_code := 400;
        ret_note := 'No such set: ' || i_queue_name;
        RETURN;
    END IF;
    SELECT * INTO r FROM londiste.local_set_table_attrs(i_queue_name, i_table_name, i_table_attrs);
    IF r.ret_code <> 200 THEN
        ret_code := r.ret_code;
        ret_note := r.ret_note;
        RETURN;
    END IF;
    SELECT coalesce(ti.dest_table, i_table_name) INTO v_dest
      FROM londiste.table_info ti WHERE ti.queue_name = i_queue_name AND ti.table_name = i_table_name AND ti.local;
    v_desc := CASE WHEN v_dest = i_table_name THEN i_table_name ELSE i_table_name || '(' || v_dest || ')' END;
    SELECT * INTO r FROM londiste.create_trigger(i_queue_name, i_table_name, i_trg_args, v_dest, v_node.node_type);
    IF r.ret_code > 299 THEN
        ret_code := r.ret_code;
        ret_note := 'Trigger creation failed for table ' || v_desc || ': ' || r.ret_note;
    ELSIF r.ret_code = 201 THEN
        ret_code := 200;
        ret_note := 'Table handler updated with no triggers: ' || v_desc;
    ELSE
        ret_code := 200;
        ret_note := 'Handler changed for table: ' || v_desc;
    END IF;
END;
$$;
