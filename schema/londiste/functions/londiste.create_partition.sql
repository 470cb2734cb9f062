-- londiste.create_partition(table, part, pkeys, part_field, part_time, part_period): create the
-- partition `part` of `table` for the period (hour, day, month, year) holding part_time, unless
-- it exists. Returns 1 when created, 0 when it was there already. Used by time-partitioning
-- handlers on subscribers.
--
-- An inherited table (`table` a plain table): a child with the parent's columns, defaults,
-- constraints, indexes, storage and comments (LIKE ... INCLUDING ALL), a CHECK constraint on
-- part_field for the period (none when part_field is empty), and what LIKE does not carry: the
-- parent's owner, its grants (WITH GRANT OPTION kept), its triggers and rules (bodies pointing at
-- the parent now point at the partition), each in the same enabled/replica/always/disabled state.
-- A declaratively partitioned `table` gets a native partition FOR VALUES FROM .. TO the period
-- (its indexes and row triggers come from the parent; owner and grants are copied).
--
-- pkeys is accepted for upstream compatibility: the key comes with the parent's indexes.
-- Concurrent callers are serialised on londiste.table_info (SHARE UPDATE EXCLUSIVE: data changes
-- of the replicated tables are not blocked).
CREATE OR REPLACE FUNCTION londiste.create_partition(
    i_table text, i_part text, i_pkeys text, i_part_field text, i_part_time timestamptz, i_part_period text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_parent    oid;
    v_kind      "char";
    v_owner     name;
    v_parent_q  text;
    v_part_q    text;
    v_from      timestamptz;
    v_to        timestamptz;
    v_acl       record;
    v_obj       record;
    v_def       text;
    v_state     text;
    v_names     text[];
    v_name      text;
    v_pos       integer;
BEGIN
    IF i_table IS NULL OR i_part IS NULL THEN
        RAISE EXCEPTION 'need table and part';
    END IF;
    v_parent_q := londiste.quote_fqname(i_table);
    v_part_q := londiste.quote_fqname(i_part);

    LOCK TABLE londiste.table_info IN SHARE UPDATE EXCLUSIVE MODE;
    SELECT c.oid, c.relkind, pg_catalog.pg_get_userbyid(c.relowner) INTO v_parent, v_kind, v_owner
      FROM pg_catalog.pg_class c WHERE c.oid = v_parent_q::regclass;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
                      londiste.split_fqname(i_part) p
                WHERE n.nspname = p.schema_part AND c.relname = p.name_part) THEN
        RETURN 0;
    END IF;

    IF coalesce(i_part_field, '') <> '' THEN
        IF i_part_period IS NULL OR i_part_period NOT IN ('hour', 'day', 'month', 'year') THEN
            RAISE EXCEPTION 'part_period must be hour, day, month or year, not %', coalesce(i_part_period, 'NULL');
        END IF;
        v_from := date_trunc(i_part_period, i_part_time);
        v_to := v_from + ('1 ' || i_part_period)::interval;
    END IF;

    IF v_kind = 'p' THEN
        IF v_from IS NULL THEN
            RAISE EXCEPTION 'a partition of the partitioned table % needs part_field and part_time', i_table;
        END IF;
        EXECUTE format('CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', v_part_q, v_parent_q,
                       to_char(v_from, 'YYYY-MM-DD HH24:MI:SS'), to_char(v_to, 'YYYY-MM-DD HH24:MI:SS'));
    ELSE
        EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING ALL) INHERITS (%s)', v_part_q, v_parent_q, v_parent_q);
        IF v_from IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s ADD CHECK (%I >= %L AND %I < %L)', v_part_q,
                           i_part_field, to_char(v_from, 'YYYY-MM-DD HH24:MI:SS'),
                           i_part_field, to_char(v_to, 'YYYY-MM-DD HH24:MI:SS'));
        END IF;
    END IF;

    IF v_owner <> current_user THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', v_part_q, v_owner);
    END IF;

    -- the parent's grants, owner's own rights aside (the owner has them by owning)
    FOR v_acl IN
        SELECT a.privilege_type, a.is_grantable,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS grantee
          FROM pg_catalog.pg_class c, aclexplode(c.relacl) a
         WHERE c.oid = v_parent AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON %s TO %s%s', v_acl.privilege_type, v_part_q, v_acl.grantee,
                       CASE WHEN v_acl.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;

    IF v_kind = 'p' THEN
        RETURN 1;
    END IF;

    -- how definitions write the parent's name: qualified, or bare when the schema is on the path
    SELECT ARRAY[quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(c.relname)] INTO v_names
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = v_parent;

    -- triggers and rules: the parent's definition made the partition's, then its enabled state.
    -- A trigger's table is the one after ON; in a rule every mention of the name its header
    -- writes becomes the partition (a rule reading its own table reads the partition).
    FOR v_obj IN
        SELECT 'TRIGGER' AS kind, t.tgname AS name, t.tgenabled AS enabled, pg_catalog.pg_get_triggerdef(t.oid) AS def
          FROM pg_catalog.pg_trigger t WHERE t.tgrelid = v_parent AND NOT t.tgisinternal
        UNION ALL
        SELECT 'RULE', r.rulename, r.ev_enabled, pg_catalog.pg_get_ruledef(r.oid)
          FROM pg_catalog.pg_rewrite r WHERE r.ev_class = v_parent AND r.rulename <> '_RETURN'
        ORDER BY 1 DESC, 2
    LOOP
        v_def := NULL;
        FOREACH v_name IN ARRAY v_names LOOP
            IF v_obj.kind = 'TRIGGER' THEN
                v_pos := position(' ON ' || v_name || ' ' IN v_obj.def);
                IF v_pos > 0 THEN
                    v_def := overlay(v_obj.def PLACING ' ON ' || v_part_q || ' ' FROM v_pos FOR char_length(v_name) + 5);
                END IF;
            ELSIF position(' TO ' || v_name || E'\n' IN v_obj.def) > 0 OR position(' TO ' || v_name || ' ' IN v_obj.def) > 0 THEN
                v_def := replace(v_obj.def, v_name, v_part_q);
            END IF;
            EXIT WHEN v_def IS NOT NULL;
        END LOOP;
        IF v_def IS NULL THEN
            RAISE EXCEPTION 'cannot find the table in the definition of % % on %: %', lower(v_obj.kind), v_obj.name, i_table, v_obj.def;
        END IF;
        EXECUTE v_def;
        v_state := CASE v_obj.enabled WHEN 'D' THEN 'DISABLE' WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA' END;
        IF v_state IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s %s %s %I', v_part_q, v_state, v_obj.kind, v_obj.name);
        END IF;
    END LOOP;
    RETURN 1;
END;
$$;
