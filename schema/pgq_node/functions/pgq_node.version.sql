-- pgq_node.version(): the installed pgq_node schema version (a literal: never an extension here).
CREATE OR REPLACE FUNCTION pgq_node.version()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '3.5.0.2'::text $$;
