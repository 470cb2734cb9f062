-- londiste.make_fqname(name): 'public.' is implied when the name has no schema.
CREATE OR REPLACE FUNCTION londiste.make_fqname(i_name text)
RETURNS text
LANGUAGE sql STRICT IMMUTABLE
AS $$ SELECT CASE WHEN position('.' in i_name) > 0 THEN i_name ELSE 'public.' || i_name END $$;
