-- londiste.drop_table_fkey(from_table, fkey): drop a foreign key for an initial copy, keeping
-- its definition in pending_fkeys. Returns 1, or 0 when there is no such key.
CREATE OR REPLACE FUNCTION londiste.drop_table_fkey(i_from_table text, i_fkey_name text)
RETURNS integer
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fk londiste.pending_fkeys;
BEGIN
    SELECT * INTO v_fk FROM londiste.find_table_fkeys(i_from_table) f
     WHERE f.fkey_name = i_fkey_name AND f.from_table = i_from_table;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    INSERT INTO londiste.pending_fkeys VALUES (v_fk.from_table, v_fk.to_table, i_fkey_name, v_fk.fkey_def);
    EXECUTE 'ALTER TABLE ONLY ' || londiste.quote_fqname(v_fk.from_table) || ' DROP CONSTRAINT ' || quote_ident(i_fkey_name);
    RETURN 1;
END;
$$;
