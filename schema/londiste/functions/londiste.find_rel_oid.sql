-- londiste.find_rel_oid(name, kind), find_table_oid(name), find_seq_oid(name): the oid of a
-- relation named as londiste stores names (schema.name, unquoted), or NULL.
CREATE OR REPLACE FUNCTION londiste.find_rel_oid(i_fqname text, i_kind text)
RETURNS oid
LANGUAGE sql STRICT STABLE
AS $$
    SELECT c.oid FROM londiste.split_fqname(i_fqname) s
      JOIN pg_catalog.pg_namespace n ON n.nspname = s.schema_part
      JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.name_part
     WHERE c.relkind = i_kind OR (i_kind = 'r' AND c.relkind = 'p')
     ORDER BY c.relkind = i_kind DESC
     LIMIT 1
$$;

CREATE OR REPLACE FUNCTION londiste.find_table_oid(tbl text)
RETURNS oid
LANGUAGE sql STRICT STABLE
AS $$ SELECT londiste.find_rel_oid(tbl, 'r') $$;

CREATE OR REPLACE FUNCTION londiste.find_seq_oid(seq text)
RETURNS oid
LANGUAGE sql STRICT STABLE
AS $$ SELECT londiste.find_rel_oid(seq, 'S') $$;
