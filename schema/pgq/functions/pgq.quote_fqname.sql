-- pgq.quote_fqname(name): quote "schema.name" part by part; a bare name means schema public.
CREATE OR REPLACE FUNCTION pgq.quote_fqname(i_name text)
RETURNS text
LANGUAGE sql STRICT IMMUTABLE
AS $$
    SELECT CASE WHEN strpos(i_name, '.') > 0
                THEN quote_ident(split_part(i_name, '.', 1)) || '.'
                     || quote_ident(substr(i_name, strpos(i_name, '.') + 1))
                ELSE 'public.' || quote_ident(i_name)
           END
$$;
