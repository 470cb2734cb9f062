-- Forgetting a table (directly or through its queue) removes its capture triggers.
DO $trg$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'londiste.table_info'::regclass AND tgname = 'table_info_trigger_sync') THEN
        CREATE TRIGGER table_info_trigger_sync BEFORE DELETE ON londiste.table_info
            FOR EACH ROW EXECUTE PROCEDURE londiste.table_info_trigger();
    END IF;
END
$trg$;
