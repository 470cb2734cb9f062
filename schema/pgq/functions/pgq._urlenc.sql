-- pgq._urlenc(text): internal; the urlencoding of the PgQ triggers: letters, digits and _.-
-- stay, space becomes +, every other byte of the UTF-8 text becomes %xx (lower-case hex).
-- Three paths by cost: nothing to encode; printable ASCII (a chain of replace(), '%' first);
-- anything else byte by byte.
CREATE OR REPLACE FUNCTION pgq._urlenc(s text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
    WHEN s ~ '^[0-9A-Za-z_.-]*$' THEN s
    WHEN s ~ '^[ -~]*$' THEN
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(s, '%', '%25'), '!', '%21'), '"', '%22'), '#', '%23'), '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'), '+', '%2b'), ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'), '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), '\', '%5c'), ']', '%5d'), '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e'), ' ', '+')
    ELSE (SELECT string_agg(CASE WHEN b = 32 THEN '+'
                                 WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
                                      OR b IN (45, 46, 95) THEN chr(b)
                                 ELSE '%' || lpad(to_hex(b), 2, '0') END, '' ORDER BY i)
            FROM (SELECT i, get_byte(v.bytes, i) AS b
                    FROM (SELECT convert_to(s, 'UTF8') AS bytes) v,
                         generate_series(0, octet_length(convert_to(s, 'UTF8')) - 1) AS i) x)
    END
$$;
