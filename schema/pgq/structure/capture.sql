-- What keeps generated capture functions current (see pgq._write_capture_function): a trigger
-- on pgq.queue for rotations and settings, and, where the installing role may create one (a
-- superuser), an event trigger for DDL. Both fire whatever session_replication_role is.
DROP TRIGGER IF EXISTS queue_capture_refresh ON pgq.queue;
CREATE TRIGGER queue_capture_refresh AFTER UPDATE ON pgq.queue FOR EACH ROW
    WHEN (OLD.queue_cur_table IS DISTINCT FROM NEW.queue_cur_table
          OR OLD.queue_disable_insert IS DISTINCT FROM NEW.queue_disable_insert
          OR OLD.queue_per_tx_limit IS DISTINCT FROM NEW.queue_per_tx_limit)
    EXECUTE PROCEDURE pgq._queue_capture_refresh();
ALTER TABLE pgq.queue ENABLE ALWAYS TRIGGER queue_capture_refresh;

DO $ddl$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'pgq_capture_ddl') THEN
        CREATE EVENT TRIGGER pgq_capture_ddl ON ddl_command_end
            WHEN TAG IN ('ALTER TABLE', 'DROP TABLE', 'DROP INDEX', 'ALTER TYPE', 'DROP TYPE', 'ALTER DOMAIN', 'DROP DOMAIN')
            EXECUTE PROCEDURE pgq._capture_ddl();
    END IF;
    ALTER EVENT TRIGGER pgq_capture_ddl ENABLE ALWAYS;
EXCEPTION
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'pgq: not a superuser, so no event trigger: generated capture triggers check the table at every statement';
END
$ddl$;

-- functions written by an earlier version, or before the event trigger existed
SELECT pgq._refresh_capture_functions(NULL, false);
