-- londiste.restore_table_fkey(from_table, fkey [, lazy]): re-create a dropped foreign key.
-- Lazy mode does not run it but returns the statement to run (NOT VALID first, VALIDATE
-- later) so a big table is not locked for the whole check. Returns '' when done.
CREATE OR REPLACE FUNCTION londiste.restore_table_fkey(i_from_table text, i_fkey_name text, i_lazy boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v_fk    record;
    v_valid boolean;
BEGIN
    SELECT * INTO v_fk FROM londiste.pending_fkeys WHERE fkey_name = i_fkey_name AND from_table = i_from_table FOR UPDATE;
    IF NOT FOUND THEN
        RETURN '';
    END IF;
    IF i_lazy THEN
        SELECT c.convalidated INTO v_valid FROM pg_catalog.pg_constraint c
         WHERE c.contype = 'f' AND c.conrelid = londiste.find_table_oid(i_from_table) AND c.conname = i_fkey_name;
        IF NOT FOUND THEN
            RETURN v_fk.fkey_def || ' not valid';
        ELSIF NOT v_valid THEN
            RETURN 'alter table only ' || londiste.quote_fqname(v_fk.from_table) || ' validate constraint ' || quote_ident(v_fk.fkey_name);
        END IF;
    ELSE
        EXECUTE v_fk.fkey_def;
    END IF;
    DELETE FROM londiste.pending_fkeys WHERE fkey_name = v_fk.fkey_name AND from_table = v_fk.from_table;
    RETURN '';
END;
$$;
