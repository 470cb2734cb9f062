-- londiste.quote_fqname(name): schema.table quoted for SQL.
CREATE OR REPLACE FUNCTION londiste.quote_fqname(i_name text)
RETURNS text
LANGUAGE sql STRICT IMMUTABLE
AS $$ SELECT quote_ident(s.schema_part) || '.' || quote_ident(s.name_part) FROM londiste.split_fqname(i_name) s $$;
