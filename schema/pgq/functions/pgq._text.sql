-- pgq._text(value): internal; a value in its type's text output form, as the C triggers render
-- it (a ::text cast differs for some types: boolean gives 'true', inet shows the netmask).
-- STABLE like format() itself, so that PostgreSQL inlines it instead of calling (and planning)
-- an SQL function for every value.
CREATE OR REPLACE FUNCTION pgq._text(v anyelement)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN v IS NULL THEN NULL ELSE format('%s', v) END $$;
