-- londiste.get_table_pending_fkeys(table): dropped foreign keys from or to the table.
CREATE OR REPLACE FUNCTION londiste.get_table_pending_fkeys(i_table_name text)
RETURNS SETOF londiste.pending_fkeys
LANGUAGE sql STRICT STABLE
AS $$
    SELECT * FROM londiste.pending_fkeys WHERE from_table = i_table_name OR to_table = i_table_name ORDER BY 1, 2, 3
$$;
