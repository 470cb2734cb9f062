-- pgq_coop.version(): the installed pgq_coop schema version (a literal: never an extension here).
CREATE OR REPLACE FUNCTION pgq_coop.version()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '3.4.0.1'::text $$;
