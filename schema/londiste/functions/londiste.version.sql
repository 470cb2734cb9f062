-- londiste.version(): the installed londiste schema version (a literal: never an extension here).
CREATE OR REPLACE FUNCTION londiste.version()
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT '3.8.0.4'::text $$;
