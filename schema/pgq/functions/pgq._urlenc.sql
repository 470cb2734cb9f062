-- pgq._urlenc(text): internal; the urlencoding of the PgQ triggers: letters, digits and _.-
-- stay, space becomes +, every other byte of the UTF-8 text becomes %xx (lower-case hex).
-- Three paths by cost: nothing to encode; printable ASCII (a chain of replace(), '%' first);
-- otherwise every UTF-8 byte in %xx form and the safe ones turned back (one expression, no
-- per-character loop). PL/pgSQL, not SQL: its expressions keep their plans for the session,
-- where a non-inlinable SQL function would be planned again in every statement.
CREATE OR REPLACE FUNCTION pgq._urlenc(s text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    IF s ~ '^[0-9A-Za-z_.-]*$' THEN
        RETURN s;
    END IF;
    IF s ~ '^[ -~]*$' THEN
        RETURN replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(s, '%', '%25'), '!', '%21'), '"', '%22'), '#', '%23'), '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'), '+', '%2b'), ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'), '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), '\', '%5c'), ']', '%5d'), '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e'), ' ', '+');
    END IF;
    RETURN replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(regexp_replace(encode(convert_to(s, 'UTF8'), 'hex'), '(..)', '%\1', 'g'), '%2d', '-'), '%2e', '.'), '%30', '0'), '%31', '1'), '%32', '2'), '%33', '3'), '%34', '4'), '%35', '5'), '%36', '6'), '%37', '7'), '%38', '8'), '%39', '9'), '%41', 'A'), '%42', 'B'), '%43', 'C'), '%44', 'D'), '%45', 'E'), '%46', 'F'), '%47', 'G'), '%48', 'H'), '%49', 'I'), '%4a', 'J'), '%4b', 'K'), '%4c', 'L'), '%4d', 'M'), '%4e', 'N'), '%4f', 'O'), '%50', 'P'), '%51', 'Q'), '%52', 'R'), '%53', 'S'), '%54', 'T'), '%55', 'U'), '%56', 'V'), '%57', 'W'), '%58', 'X'), '%59', 'Y'), '%5a', 'Z'), '%5f', '_'), '%61', 'a'), '%62', 'b'), '%63', 'c'), '%64', 'd'), '%65', 'e'), '%66', 'f'), '%67', 'g'), '%68', 'h'), '%69', 'i'), '%6a', 'j'), '%6b', 'k'), '%6c', 'l'), '%6d', 'm'), '%6e', 'n'), '%6f', 'o'), '%70', 'p'), '%71', 'q'), '%72', 'r'), '%73', 's'), '%74', 't'), '%75', 'u'), '%76', 'v'), '%77', 'w'), '%78', 'x'), '%79', 'y'), '%7a', 'z'), '%20', '+');
END;
$$;
