-- londiste.table_info_trigger(): BEFORE DELETE on table_info: a forgotten table loses its triggers.
CREATE OR REPLACE FUNCTION londiste.table_info_trigger()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM londiste.drop_table_triggers(OLD.queue_name, OLD.table_name);
    END IF;
    RETURN OLD;
END;
$$;
