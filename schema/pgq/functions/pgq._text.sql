-- pgq._text(value): internal; a value in its type's text output form, as the C triggers render
-- it (a ::text cast differs for some types: boolean gives 'true', inet shows the netmask).
CREATE OR REPLACE FUNCTION pgq._text(v anyelement)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN v IS NULL THEN NULL ELSE format('%s', v) END $$;
