-- londiste.local_set_table_attrs(queue, table, attrs): replace a local table's urlencoded
-- attributes (handler, copy_node, skip_truncate, where, ...).
CREATE OR REPLACE FUNCTION londiste.local_set_table_attrs(
    IN i_queue_name text, IN i_table_name text, IN i_table_attrs text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE londiste.table_info SET table_attrs = i_table_attrs
     WHERE queue_name = i_queue_name AND table_name = i_table_name AND local;
    IF FOUND THEN
        ret_code := 200;
        ret_note := i_table_name || ': Table attributes stored';
    ELSE
        ret_code := 404;
        ret_note := 'no such local table: ' || i_table_name;
    END IF;
END;
$$;
