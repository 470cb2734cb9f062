-- londiste.set_session_replication_role(role, is_local): set session_replication_role for the
-- transaction (is_local) or the session. Upstream workers call it when they connect and around
-- EXECUTE scripts. It runs with its owner's rights, so only roles the owner allows may call it.
CREATE OR REPLACE FUNCTION londiste.set_session_replication_role(i_role text, i_is_local boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    IF i_role IS NULL OR i_role NOT IN ('origin', 'replica', 'local') THEN
        RAISE EXCEPTION 'bad value for session_replication_role: %', coalesce(i_role, 'NULL')
            USING HINT = 'use origin, replica or local';
    END IF;
    PERFORM pg_catalog.set_config('session_replication_role', i_role, coalesce(i_is_local, false));
END;
$$;
