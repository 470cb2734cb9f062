-- londiste.local_set_table_error(queue, table, error): record one more failure of the table's copy
-- (the first one sets first_failed), or with a NULL error clear what was recorded.
CREATE OR REPLACE FUNCTION londiste.local_set_table_error(i_queue_name text, i_table_name text, i_error text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_fq text := londiste.make_fqname(i_table_name);
BEGIN
    IF i_error IS NULL THEN
        DELETE FROM londiste.table_error WHERE queue_name = i_queue_name AND table_name = v_fq;
        RETURN;
    END IF;
    INSERT INTO londiste.table_error AS e (queue_name, table_name, error)
    VALUES (i_queue_name, v_fq, i_error)
    ON CONFLICT (queue_name, table_name)
    DO UPDATE SET error = excluded.error, failures = e.failures + 1, last_failed = now();
END;
$$;
