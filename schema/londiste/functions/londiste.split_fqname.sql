-- londiste.split_fqname(name): schema and table parts (schema 'public' when none is given).
CREATE OR REPLACE FUNCTION londiste.split_fqname(IN i_fqname text, OUT schema_part text, OUT name_part text)
LANGUAGE sql STRICT IMMUTABLE
AS $$
    SELECT CASE WHEN position('.' in i_fqname) > 0 THEN substring(i_fqname for position('.' in i_fqname) - 1) ELSE 'public' END,
           CASE WHEN position('.' in i_fqname) > 0 THEN substring(i_fqname from position('.' in i_fqname) + 1) ELSE i_fqname END
$$;
