-- pgq.seq_getval(seq): last_value of a sequence given as "schema.name" text.
-- pgq.seq_setval(seq, value): move a sequence forward to value, never backwards; returns the
-- resulting position. Used by the external ticker and by cascaded nodes.
CREATE OR REPLACE FUNCTION pgq.seq_getval(i_seq_name text)
RETURNS bigint
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    v bigint;
BEGIN
    EXECUTE 'SELECT last_value FROM ' || pgq.quote_fqname(i_seq_name) INTO v;
    RETURN v;
END;
$$;

CREATE OR REPLACE FUNCTION pgq.seq_setval(i_seq_name text, i_new_value int8)
RETURNS bigint
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    cur bigint := pgq.seq_getval(i_seq_name);
BEGIN
    IF cur >= i_new_value THEN
        RETURN cur;
    END IF;
    PERFORM setval(pgq.quote_fqname(i_seq_name), i_new_value);
    RETURN i_new_value;
END;
$$;
