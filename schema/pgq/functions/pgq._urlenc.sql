-- pgq._urlenc(text): internal; the urlencoding of the PgQ triggers: letters, digits and _.-
-- stay, space becomes +, every other byte of the UTF-8 text becomes %xx (lower-case hex).
-- Paths by cost:
--   nothing to encode: the text itself;
--   ASCII: a chain of replace(), '%' first (replace() of an absent character costs next to
--   nothing);
--   other text: the ASCII chain, then the bytes above 0x7f through bytea's escape form, whose
--   \ooo octal escapes two fixed rounds of replace() turn into %xx: the first maps the two
--   leading octal digits to the high hex digit, marking with '#' (encoded by then wherever the
--   text had one) the escapes whose low hex digit is 8 or more; the second maps marker and last
--   octal digit to the low hex digit;
--   text with control characters (rare): every byte in %xx form, the safe ones turned back.
-- PL/pgSQL, not SQL: its expressions keep their plans for the session, where a non-inlinable
-- SQL function would be planned in every statement.
CREATE OR REPLACE FUNCTION pgq._urlenc(s text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    v text;
BEGIN
    IF s ~ '^[0-9A-Za-z_.-]*$' THEN
        RETURN s;
    END IF;
    IF s ~ '[\x01-\x1f\x7f]' THEN
        RETURN replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(regexp_replace(encode(convert_to(s, 'UTF8'), 'hex'), '(..)', '%\1', 'g'), '%2d', '-'), '%2e', '.'), '%30', '0'), '%31', '1'), '%32', '2'), '%33', '3'), '%34', '4'), '%35', '5'), '%36', '6'), '%37', '7'), '%38', '8'), '%39', '9'), '%41', 'A'), '%42', 'B'), '%43', 'C'), '%44', 'D'), '%45', 'E'), '%46', 'F'), '%47', 'G'), '%48', 'H'), '%49', 'I'), '%4a', 'J'), '%4b', 'K'), '%4c', 'L'), '%4d', 'M'), '%4e', 'N'), '%4f', 'O'), '%50', 'P'), '%51', 'Q'), '%52', 'R'), '%53', 'S'), '%54', 'T'), '%55', 'U'), '%56', 'V'), '%57', 'W'), '%58', 'X'), '%59', 'Y'), '%5a', 'Z'), '%5f', '_'), '%61', 'a'), '%62', 'b'), '%63', 'c'), '%64', 'd'), '%65', 'e'), '%66', 'f'), '%67', 'g'), '%68', 'h'), '%69', 'i'), '%6a', 'j'), '%6b', 'k'), '%6c', 'l'), '%6d', 'm'), '%6e', 'n'), '%6f', 'o'), '%70', 'p'), '%71', 'q'), '%72', 'r'), '%73', 's'), '%74', 't'), '%75', 'u'), '%76', 'v'), '%77', 'w'), '%78', 'x'), '%79', 'y'), '%7a', 'z'), '%20', '+');
    END IF;
    v := replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(s, '%', '%25'), '!', '%21'), '"', '%22'), '#', '%23'), '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'), '+', '%2b'), ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'), '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), '\', '%5c'), ']', '%5d'), '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e'), ' ', '+');
    IF s ~ '^[ -~]*$' THEN
        RETURN v;
    END IF;
    RETURN replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(encode(convert_to(v, 'UTF8'), 'escape'), E'\\20', '%8'), E'\\21', '%8#'), E'\\22', '%9'), E'\\23', '%9#'), E'\\24', '%a'), E'\\25', '%a#'), E'\\26', '%b'), E'\\27', '%b#'), E'\\30', '%c'), E'\\31', '%c#'), E'\\32', '%d'), E'\\33', '%d#'), E'\\34', '%e'), E'\\35', '%e#'), E'\\36', '%f'), E'\\37', '%f#'), '#0', '8'), '#1', '9'), '#2', 'a'), '#3', 'b'), '#4', 'c'), '#5', 'd'), '#6', 'e'), '#7', 'f');
END;
$$;
