-- londiste.execute_start(queue, file, sql, expect_root [, attrs]): begin running a DDL script
-- through the cascade; 201 when this node has run that file already.
CREATE OR REPLACE FUNCTION londiste.execute_start(
    IN i_queue_name text, IN i_file_name text, IN i_sql text, IN i_expect_root boolean, IN i_attrs text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql
AS $$
BEGIN
    IF i_expect_root AND NOT pgq_node.is_root_node(i_queue_name) THEN
        ret_code := 401;
        ret_note := 'Node is not root node: ' || i_queue_name;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM londiste.applied_execute WHERE execute_file = i_file_name) THEN
        ret_code := 201;
        ret_note := 'EXECUTE: "' || i_file_name || '" already applied, skipping';
        RETURN;
    END IF;
    INSERT INTO londiste.applied_execute (queue_name, execute_file, execute_sql, execute_attrs)
    VALUES (i_queue_name, i_file_name, i_sql, i_attrs);
    ret_code := 200;
    ret_note := 'Executing: ' || i_file_name;
END;
$$;

CREATE OR REPLACE FUNCTION londiste.execute_start(
    IN i_queue_name text, IN i_file_name text, IN i_sql text, IN i_expect_root boolean,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE sql
AS $$ SELECT * FROM londiste.execute_start(i_queue_name, i_file_name, i_sql, i_expect_root, NULL) $$;
