-- pgq._text_expr(column reference, type): internal; the cheapest SQL expression giving a
-- value's text output form (what pgq._text returns). A plain ::text cast goes through the type's
-- output function, or is a no-op for text-like types, except where a cast function to text
-- exists that renders differently (boolean gives 'true', inet shows the netmask, char(n) loses
-- its padding): those call the type's output function directly.
CREATE OR REPLACE FUNCTION pgq._text_expr(i_ref text, i_type oid)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
                      WHERE c.castsource = b.oid AND c.casttarget = 'text'::regtype AND c.castmethod = 'f')
            THEN format('%s(%s)::text', b.typoutput::regproc, i_ref)
        ELSE i_ref || '::text'
    END
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_type b ON b.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
     WHERE t.oid = i_type
$$;
