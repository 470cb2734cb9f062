-- Roles of PgQ 3.5: readers consume, writers produce, admins run the ticker and maintenance.
-- Roles are cluster-wide while installs are per database, so two databases installing at the
-- same moment may race; losing that race is fine.
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['pgq_reader', 'pgq_writer', 'pgq_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    -- admins can do what readers and writers can
    IF NOT pg_has_role('pgq_admin', 'pgq_reader', 'MEMBER') THEN
        GRANT pgq_reader TO pgq_admin;
    END IF;
    IF NOT pg_has_role('pgq_admin', 'pgq_writer', 'MEMBER') THEN
        GRANT pgq_writer TO pgq_admin;
    END IF;
END
$roles$;
