-- pgq._urlenc(text): internal; the urlencoding of the PgQ triggers: letters, digits and _.-
-- stay, space becomes +, every other byte of the UTF-8 text becomes %xx (lower-case hex).
-- Three paths by cost: nothing to encode; printable ASCII (a chain of replace(), '%' first);
-- anything else byte by byte. PL/pgSQL, not SQL: its expressions keep their plans for the
-- session, where a non-inlinable SQL function would be planned again in every statement.
CREATE OR REPLACE FUNCTION pgq._urlenc(s text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    v_out   text := '';
    v_byte  integer;
    v_bytes bytea;
BEGIN
    IF s ~ '^[0-9A-Za-z_.-]*$' THEN
        RETURN s;
    END IF;
    IF s ~ '^[ -~]*$' THEN
        RETURN replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(s, '%', '%25'), '!', '%21'), '"', '%22'), '#', '%23'), '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'), '+', '%2b'), ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'), '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), '\', '%5c'), ']', '%5d'), '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e'), ' ', '+');
    END IF;
    v_bytes := convert_to(s, 'UTF8');
    FOR i IN 0 .. octet_length(v_bytes) - 1 LOOP
        v_byte := get_byte(v_bytes, i);
        IF v_byte = 32 THEN
            v_out := v_out || '+';
        ELSIF v_byte BETWEEN 48 AND 57 OR v_byte BETWEEN 65 AND 90 OR v_byte BETWEEN 97 AND 122 OR v_byte IN (45, 46, 95) THEN
            v_out := v_out || chr(v_byte);
        ELSE
            v_out := v_out || '%' || lpad(to_hex(v_byte), 2, '0');
        END IF;
    END LOOP;
    RETURN v_out;
END;
$$;
