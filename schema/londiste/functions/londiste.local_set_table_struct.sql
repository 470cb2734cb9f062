-- londiste.local_set_table_struct(queue, table, dropped_ddl): remember DDL dropped for a copy
-- (indexes, constraints) so it can be restored, or NULL once restored.
CREATE OR REPLACE FUNCTION londiste.local_set_table_struct(
    IN i_queue_name text, IN i_table_name text, IN i_dropped_ddl text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE londiste.table_info SET dropped_ddl = i_dropped_ddl
     WHERE queue_name = i_queue_name AND table_name = i_table_name AND local;
    IF FOUND THEN
        ret_code := 200;
        ret_note := 'Table struct stored';
    ELSE
        ret_code := 404;
        ret_note := 'no such local table: ' || i_table_name;
    END IF;
END;
$$;
