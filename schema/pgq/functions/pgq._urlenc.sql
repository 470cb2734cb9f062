-- pgq._urlenc(text): internal; the urlencoding of the PgQ triggers: letters, digits and _.-
-- stay, space becomes +, every other byte of the UTF-8 text becomes %xx (lower-case hex).
-- Three paths by cost: nothing to encode; printable ASCII (a chain of replace(), '%' first);
-- otherwise the same chain, then each distinct other character (non-ASCII, control) replaced by
-- its UTF-8 bytes in %xx form. PL/pgSQL, not SQL: its expressions keep their plans for the
-- session, where a non-inlinable SQL function would be planned again in every statement.
CREATE OR REPLACE FUNCTION pgq._urlenc(s text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    v_out   text := s;
    v_ch    text;
BEGIN
    IF s ~ '^[0-9A-Za-z_.-]*$' THEN
        RETURN s;
    END IF;
    IF s ~ '^[ -~]*$' THEN
        RETURN replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(s, '%', '%25'), '!', '%21'), '"', '%22'), '#', '%23'), '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'), '+', '%2b'), ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'), '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), '\', '%5c'), ']', '%5d'), '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e'), ' ', '+');
    END IF;
    v_out := replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(v_out, '%', '%25'), '!', '%21'), '"', '%22'), '#', '%23'), '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'), '+', '%2b'), ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'), '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), '\', '%5c'), ']', '%5d'), '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e'), ' ', '+');
    FOR v_ch IN SELECT DISTINCT m[1] FROM regexp_matches(v_out, '([^ -~])', 'g') AS m LOOP
        v_out := replace(v_out, v_ch, regexp_replace(encode(convert_to(v_ch, 'UTF8'), 'hex'), '(..)', '%\1', 'g'));
    END LOOP;
    RETURN v_out;
END;
$$;
