/**
 * The installed catalog of the project's schemas as sorted text lines: tables and their columns,
 * constraints, indexes and triggers; sequences; views; functions with their signatures, result,
 * language, volatility, security and a hash of their body; privileges; event triggers. Meant to
 * be the same on every supported PostgreSQL version, so one committed file reviews them all.
 */
import type pg from 'pg';

const SCHEMAS = ['pgq', 'pgq_ext', 'pgq_coop', 'pgq_node', 'londiste'];

const QUERY = `
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = ANY ($1::text[])),
rel AS (SELECT c.oid, ns.nspname || '.' || c.relname AS name, c.relkind, c.relacl
          FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c')
           -- the queues' own event tables are data, not schema
           AND c.relname !~ '^event_[0-9]+(_[0-9]+)?(_id_seq|_tick_seq|_event_seq)?$'),
acl AS (SELECT r.name, a.grantee, a.privilege_type
          FROM rel r, aclexplode(r.relacl) a)
SELECT 'relation ' || name || ' kind=' || relkind::text AS line FROM rel
UNION ALL
SELECT 'column ' || r.name || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE r.relkind IN ('r', 'p', 'v', 'c')
UNION ALL
SELECT 'constraint ' || r.name || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM rel r JOIN pg_constraint k ON k.conrelid = r.oid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
  FROM rel r JOIN pg_index i ON i.indrelid = r.oid
UNION ALL
SELECT 'trigger ' || r.name || ' ' || pg_get_triggerdef(t.oid)
  FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
UNION ALL
SELECT 'grant ' || name || ' ' || privilege_type || ' to ' || CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END
  FROM acl WHERE grantee = 0 OR pg_get_userbyid(grantee) LIKE 'pgq\\_%' OR pg_get_userbyid(grantee) LIKE 'londiste\\_%'
UNION ALL
SELECT 'function ' || ns.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
       || ' returns ' || coalesce(pg_get_function_result(p.oid), '-')
       || ' ' || l.lanname
       || ' ' || CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END
       || CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END
       || CASE WHEN p.proisstrict THEN ' strict' ELSE '' END
       || coalesce(' set ' || array_to_string(p.proconfig, ','), '')
       || ' body ' || md5(p.prosrc)
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 -- functions generated for captured tables are per-table data, not schema
 WHERE p.proname !~ '^trg_[0-9]+_[0-9]+$'
UNION ALL
SELECT 'grant function ' || ns.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '
       || a.privilege_type || ' to ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace, aclexplode(p.proacl) a
 WHERE p.proname !~ '^trg_[0-9]+_[0-9]+$'
   AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) LIKE 'pgq\\_%' OR pg_get_userbyid(a.grantee) LIKE 'londiste\\_%')
UNION ALL
SELECT 'schema ' || nspname || ' comment ' || regexp_replace(coalesce(obj_description(oid, 'pg_namespace'), ''), 'sha256:[0-9a-f]+', 'sha256:*')
  FROM ns
UNION ALL
SELECT 'event trigger ' || evtname || ' on ' || evtevent || ' executes ' || evtfoid::regproc::text
  FROM pg_event_trigger
ORDER BY 1`;

export async function dumpCatalog(client: pg.ClientBase): Promise<string> {
  const r = await client.query<{ line: string }>(QUERY, [SCHEMAS]);
  return r.rows.map((x) => x.line).join('\n') + '\n';
}
