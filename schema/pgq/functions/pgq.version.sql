-- pgq.version(): the installed PgQ schema version.
-- Upstream reads it from pg_extension; we are never an extension (managed services forbid it),
-- so the version is a literal. Format: upstream API version plus our revision, all numeric,
-- because clients parse it as dotted integers.
CREATE OR REPLACE FUNCTION pgq.version()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '3.5.2.8'::text $$;
