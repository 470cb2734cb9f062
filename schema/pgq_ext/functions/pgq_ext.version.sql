-- pgq_ext.version(): the installed pgq_ext schema version (a literal: never an extension here).
CREATE OR REPLACE FUNCTION pgq_ext.version()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '3.3.0.1'::text $$;
