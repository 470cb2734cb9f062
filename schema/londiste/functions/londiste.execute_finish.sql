-- londiste.execute_finish(queue, file): the script ran; on the root it is passed down the
-- cascade as an EXECUTE event.
CREATE OR REPLACE FUNCTION londiste.execute_finish(
    IN i_queue_name text, IN i_file_name text,
    OUT ret_code int4, OUT ret_note text)
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_ex record;
BEGIN
    SELECT execute_sql, execute_attrs INTO v_ex FROM londiste.applied_execute WHERE execute_file = i_file_name;
    IF NOT FOUND THEN
        ret_code := 404;
        ret_note := 'execute_file called without execute_start';
        RETURN;
    END IF;
    IF pgq_node.is_root_node(i_queue_name) THEN
        PERFORM pgq.insert_event(i_queue_name, 'EXECUTE', v_ex.execute_sql, i_file_name, v_ex.execute_attrs, NULL, NULL);
    END IF;
    ret_code := 200;
    ret_note := 'Execute finished: ' || i_file_name;
END;
$$;
