/**
 * What the system catalogs say about tables, sequences and databases: columns, keys, indexes,
 * foreign keys, definitions for creating a table elsewhere, and the identity of a database.
 * Names are `schema.name` as londiste stores them (split with splitFqname, never parsed as SQL).
 */
import type pg from 'pg';
import { quoteFqname, quoteIdent, splitFqname } from '../identifiers.js';

export type RelKind = 'table' | 'sequence';

/**
 * The names (each once: a name given twice would double its rows) with their schemas and relation
 * names side by side, for the `unnest($1, $2, $3)` of the queries by list.
 */
function splitAll(fqnames: readonly string[]): [string[], string[], string[]] {
  const names = [...new Set(fqnames)];
  const parts = names.map(splitFqname);
  return [names, parts.map((p) => p.schema), parts.map((p) => p.name)];
}

/** Does `fqname` exist as a table (plain or partitioned) or a sequence? */
export async function relationExists(client: pg.ClientBase, fqname: string, kind: RelKind): Promise<boolean> {
  return (await relationsExisting(client, [fqname], kind)).has(fqname);
}

/** Which of the names exist as `kind` here (relationExists of several in one round trip). */
export async function relationsExisting(client: pg.ClientBase, fqnames: readonly string[], kind: RelKind): Promise<Set<string>> {
  const r = await client.query<{ fq: string }>(
    `SELECT t.fq FROM unnest($1::text[], $2::text[], $3::text[]) AS t(fq, nsp, rel)
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.nsp
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.rel
      WHERE c.relkind = ANY ($4::"char"[])`,
    [...splitAll(fqnames), kind === 'table' ? ['r', 'p'] : ['S']],
  );
  return new Set(r.rows.map((x) => x.fq));
}

export interface ColumnInfo {
  name: string;
  /** format_type(): the type as it would be written in DDL. */
  type: string;
  notnull: boolean;
  /** The default expression, or null. */
  def: string | null;
  /** Part of the primary key. */
  pk: boolean;
  /** pg_type.typcategory of the type: N numeric, S string, D date/time, B boolean, U user-defined, ... */
  category: string;
  /**
   * A built-in base, range or multirange type (or an array of one) with binary send and receive
   * functions: its binary COPY format is the wire protocol's, which drivers rely on. Not: a
   * user's type (its OID differs between databases, an extension's format between versions),
   * domains and composites (their binary form holds OIDs), and the reg* types, whose binary form
   * is the OID itself where the text names the object.
   */
  builtin: boolean;
  /** A generated column (GENERATED ALWAYS AS ...): it computes its own value, never written. */
  generated: boolean;
  /** An identity column: 'a' (GENERATED ALWAYS, written only with OVERRIDING SYSTEM VALUE), 'd' (BY DEFAULT), or ''. */
  identity: string;
}

/** The live columns of a table in attnum order; empty when the table does not exist. */
export async function tableColumns(client: pg.ClientBase, fqname: string): Promise<ColumnInfo[]> {
  return (await columnsOf(client, [fqname])).get(fqname) ?? [];
}

/** tableColumns of several tables in one round trip: name → its columns (absent: no such table). */
export async function columnsOf(client: pg.ClientBase, fqnames: readonly string[]): Promise<Map<string, ColumnInfo[]>> {
  const r = await client.query<ColumnInfo & { fq: string }>(
    `SELECT t.fq, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            pg_get_expr(d.adbin, d.adrelid) AS def,
            coalesce(a.attnum = ANY (i.indkey::int2[]), false) AS pk, ty.typcategory::text AS category,
            (ty.oid < 16384 AND ty.typsend::oid <> 0 AND ty.typreceive::oid <> 0 AND ty.typtype IN ('b', 'r', 'm')
             AND el.oid < 16384 AND el.typtype IN ('b', 'r', 'm') AND el.typname NOT LIKE 'reg%') AS builtin,
            -- attgenerated came with PostgreSQL 12: read by name, absent before
            coalesce(to_jsonb(a) ->> 'attgenerated', '') <> '' AS generated, a.attidentity::text AS identity
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(fq, nsp, rel)
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.nsp
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.rel
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
       JOIN pg_catalog.pg_type el ON el.oid = coalesce(nullif(ty.typelem, 0), ty.oid)
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE c.relkind IN ('r', 'p')
      ORDER BY t.fq, a.attnum`,
    splitAll(fqnames),
  );
  const out = new Map<string, ColumnInfo[]>();
  for (const { fq, ...col } of r.rows) {
    const list = out.get(fq) ?? [];
    if (list.length === 0) out.set(fq, list);
    list.push(col);
  }
  return out;
}

/**
 * Whether the table's primary key is DEFERRABLE (its uniqueness not checked at once): INSERT ...
 * ON CONFLICT cannot name it as arbiter.
 */
export async function primaryKeyDeferrable(client: pg.ClientBase, fqname: string): Promise<boolean> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<{ deferrable: boolean }>(
    `SELECT NOT i.indimmediate AS deferrable
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary`,
    [schema, name],
  );
  return r.rows[0]?.deferrable === true;
}

/** Whether each relation has a primary key, in one round trip: name → true or false (absent: no such relation). */
export async function primaryKeysOf(client: pg.ClientBase, fqnames: readonly string[]): Promise<Map<string, boolean>> {
  const r = await client.query<{ fq: string; has_pk: boolean }>(
    `SELECT t.fq, EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(fq, nsp, rel)
       JOIN pg_catalog.pg_namespace n ON n.nspname = t.nsp
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.rel`,
    splitAll(fqnames),
  );
  return new Map(r.rows.map((x) => [x.fq, x.has_pk]));
}

export interface IndexInfo {
  /** Index name (in the table's schema). */
  name: string;
  /** pg_get_indexdef(): the CREATE INDEX statement. */
  def: string;
  /** Backs a constraint of the table itself (primary key, unique, exclusion): made by the constraint. */
  ownConstraint: boolean;
  /**
   * Not to be dropped and rebuilt: a constraint depends on it (its own, or another table's foreign
   * key), or it carries what its CREATE INDEX statement does not (replica identity, the CLUSTER
   * mark, a tablespace, a comment, statistics targets).
   */
  needed: boolean;
  /**
   * Carries what neither its CREATE INDEX nor its constraint's definition says (replica identity,
   * the CLUSTER mark, a tablespace, a comment, statistics targets), or is a partition's index
   * attached to its parent's: not to be dropped even with its constraint.
   */
  keepsMore: boolean;
  /** A foreign key (of this or another table) points at it: its constraint cannot be dropped either. */
  foreignKeyTarget: boolean;
}

/** Every index of a table, by name. */
export async function tableIndexes(client: pg.ClientBase, fqname: string): Promise<IndexInfo[]> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<IndexInfo>(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def,
            EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid) AS "ownConstraint",
            i.indisprimary OR EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid) OR x.more AS needed,
            x.more AS "keepsMore",
            EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype = 'f') AS "foreignKeyTarget"
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL (SELECT i.indisreplident OR i.indisclustered OR ic.reltablespace <> 0 OR ic.relispartition
              OR EXISTS (SELECT 1 FROM pg_catalog.pg_description d WHERE d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::regclass)
              OR EXISTS (SELECT 1 FROM pg_catalog.pg_description d WHERE d.classoid = 'pg_catalog.pg_constraint'::regclass
                           AND d.objoid IN (SELECT k.oid FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid))
              -- -1 (or NULL from 17 on): the default; 0 and up: set
              OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indexrelid AND coalesce(a.attstattarget, -1) >= 0) AS more) x
      WHERE n.nspname = $1 AND c.relname = $2
      ORDER BY ic.relname`,
    [schema, name],
  );
  return r.rows;
}

/**
 * Estimated bytes of each table and its TOAST (pages as of the last VACUUM or ANALYZE; indexes,
 * partitions and children not counted), 0 for a name that is no table here or was never
 * analyzed. Read from pg_class only: unlike pg_table_size, no lock that a pending ALTER TABLE on
 * the table could make wait.
 */
export async function tableSizes(client: pg.ClientBase, fqnames: readonly string[]): Promise<Map<string, number>> {
  const r = await client.query<{ name: string; bytes: string }>(
    `SELECT t.name, ((coalesce(c.relpages, 0)::int8 + coalesce((SELECT greatest(tc.relpages, 0) FROM pg_catalog.pg_class tc WHERE tc.oid = c.reltoastrelid), 0))
                     * current_setting('block_size')::int8)::text AS bytes
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(name, nsp, rel)
       LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = t.nsp
       LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.rel`,
    [fqnames, fqnames.map((f) => splitFqname(f).schema), fqnames.map((f) => splitFqname(f).name)],
  );
  return new Map(r.rows.map((x) => [x.name, Number(x.bytes)]));
}

/** Is the table declaratively partitioned (PARTITION BY: it holds no rows itself, its partitions do)? */
export async function isPartitioned(client: pg.ClientBase, fqname: string): Promise<boolean> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query(
    `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'p'`,
    [schema, name],
  );
  return (r.rowCount ?? 0) > 0;
}

/** What a copy into a table needs to know of it before it empties it (see tableTraits). */
export interface TableTraits {
  /** Declaratively partitioned (PARTITION BY: its partitions hold the rows). */
  partitioned: boolean;
  /**
   * May this session drop and build the table's keys and indexes again: it acts as the table's
   * owner, and may create in its schema (owning the table is not enough to create an index)? Never
   * for a partitioned table: its indexes take their partitions' with them, with what those carry of
   * their own (names, replica identity, tablespaces), and building them needs CREATE in every
   * partition's schema.
   */
  mayRebuildIndexes: boolean;
  /** Other tables reference it by foreign key (which makes TRUNCATE refuse it). */
  referencedByOthers: boolean;
}

/** The table's traits in one round trip; all false when there is no such table. */
export async function tableTraits(client: pg.ClientBase, fqname: string): Promise<TableTraits> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<TableTraits>(
    `SELECT c.relkind = 'p' AS partitioned,
            c.relkind <> 'p' AND pg_has_role(c.relowner, 'USAGE') AND has_schema_privilege(n.oid, 'CREATE') AS "mayRebuildIndexes",
            EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' AND k.confrelid = c.oid AND k.conrelid <> k.confrelid) AS "referencedByOthers"
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  return r.rows[0] ?? { partitioned: false, mayRebuildIndexes: false, referencedByOthers: false };
}

export interface ConstraintInfo {
  name: string;
  /** p(rimary key), u(nique), c(heck), x (exclusion) */
  type: 'p' | 'u' | 'c' | 'x';
  /** pg_get_constraintdef() */
  def: string;
  /** The index behind it (primary key, unique, exclusion), in the table's schema. */
  index: string | null;
}

/** Primary key first, then the other non-foreign-key constraints by name. */
export async function tableConstraints(client: pg.ClientBase, fqname: string): Promise<ConstraintInfo[]> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<ConstraintInfo>(
    `SELECT k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid) AS def,
            (SELECT ic.relname FROM pg_catalog.pg_class ic WHERE ic.oid = k.conindid) AS index
       FROM pg_catalog.pg_constraint k
       JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND k.contype IN ('p', 'u', 'c', 'x')
      ORDER BY k.contype = 'p' DESC, k.conname`,
    [schema, name],
  );
  return r.rows;
}

/** Every non-template database that accepts connections, and this role may connect to. */
export async function listDatabases(client: pg.ClientBase): Promise<string[]> {
  // (those this role may not connect to would only fail, at every discovery round)
  const r = await client.query<{ datname: string }>(
    `SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate AND has_database_privilege(datname, 'CONNECT') ORDER BY 1`,
  );
  return r.rows.map((x) => x.datname);
}

/** What identifies a database and a moment in it: compared between two connections. */
export interface DatabaseIdentity {
  oid: string;
  datname: string;
  txid: string;
  snapshot: string;
}

/** Takes a transaction id (txid_current), which is the point: another session can look for it. */
export async function databaseIdentity(client: pg.ClientBase): Promise<DatabaseIdentity | undefined> {
  const r = await client.query<DatabaseIdentity>(
    `SELECT d.oid::text AS oid, d.datname, txid_current()::text AS txid, txid_current_snapshot()::text AS snapshot
       FROM pg_catalog.pg_database d WHERE d.datname = current_database()`,
  );
  return r.rows[0];
}

/** Is transaction `txid` visible in each of two snapshots (txid_snapshot text)? */
export async function txidVisibility(client: pg.ClientBase, txid: string, before: string, after: string): Promise<{ before: boolean; after: boolean } | undefined> {
  const r = await client.query<{ before: boolean; after: boolean }>(
    'SELECT txid_visible_in_snapshot($1::bigint, $2::txid_snapshot) AS before, txid_visible_in_snapshot($1::bigint, $3::txid_snapshot) AS after',
    [txid, before, after],
  );
  return r.rows[0];
}

/** The snapshot of the current transaction (txid_snapshot text). */
export async function currentSnapshot(client: pg.ClientBase): Promise<string> {
  const r = await client.query<{ s: string }>('SELECT txid_current_snapshot()::text AS s');
  return r.rows[0]?.s ?? '';
}

/** Does the schema exist? */
export async function schemaExists(client: pg.ClientBase, name: string): Promise<boolean> {
  const r = await client.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

/** Does `fqname` exist as a view (plain or materialized)? */
export async function viewExists(client: pg.ClientBase, fqname: string): Promise<boolean> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query(
    `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('v', 'm')`,
    [schema, name],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Does a function `fqname` taking `nargs` arguments exist? */
export async function functionExists(client: pg.ClientBase, fqname: string, nargs: number): Promise<boolean> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query(
    `SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = $3`,
    [schema, name, nargs],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * Row count and an order-independent checksum of `columns` of a table (the sum of 64-bit hashes of
 * each row's text), optionally filtered by a SQL condition; with `countOnly` the count alone (sum
 * null). Streams: no rows are held in memory. Comparable across servers once both sessions use the
 * same output settings (session.setComparableOutput).
 */
export async function tableChecksum(
  client: pg.ClientBase,
  fqname: string,
  columns: readonly string[],
  where: string | null,
  countOnly = false,
): Promise<{ rows: string; sum: string | null }> {
  const cols = columns.map(quoteIdent).join(', ');
  const sum = countOnly ? 'NULL::text' : 'coalesce(sum(hashtextextended(x::text, 0)), 0)::text';
  const r = await client.query<{ rows: string; sum: string | null }>(
    `SELECT count(*)::text AS rows, ${sum} AS sum FROM (SELECT ${cols} FROM ${quoteFqname(fqname)}${where === null ? '' : ` WHERE ${where}`}) x`,
  );
  return r.rows[0] ?? { rows: '0', sum: countOnly ? null : '0' };
}

/** The planner's estimate of a table's rows (for progress messages); null when never analyzed. */
export async function estimatedRows(client: pg.ClientBase, fqname: string): Promise<number | null> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<{ n: number }>(
    `SELECT c.reltuples::float8 AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  const n = r.rows[0]?.n;
  return n === undefined || n < 0 ? null : Math.round(n);
}

/**
 * Columns a table fills itself: generated ones (never written), identity ones (`identity`; the
 * GENERATED ALWAYS ones also in `identityAlways`, written only with OVERRIDING SYSTEM VALUE).
 */
export interface ComputedColumns {
  generated: string[];
  identity: string[];
  identityAlways: string[];
}

/** The computed columns among a table's columns (as tableColumns or columnsOf read them). */
export function computedOf(columns: readonly ColumnInfo[]): ComputedColumns {
  return {
    generated: columns.filter((c) => c.generated).map((c) => c.name),
    identity: columns.filter((c) => c.identity !== '').map((c) => c.name),
    identityAlways: columns.filter((c) => c.identity === 'a').map((c) => c.name),
  };
}

/** The table's computed columns (none when there is no such table). */
export async function computedColumns(client: pg.ClientBase, fqname: string): Promise<ComputedColumns> {
  return computedOf(await tableColumns(client, fqname));
}

/** What the session's user may do, for check-privileges: superuser, role membership, table rights. */
export interface PrivilegeFacts {
  user: string;
  superuser: boolean;
}

export async function privilegeFacts(client: pg.ClientBase): Promise<PrivilegeFacts> {
  const r = await client.query<PrivilegeFacts>(`SELECT current_user::text AS user, rolsuper AS superuser FROM pg_catalog.pg_roles WHERE rolname = current_user`);
  return r.rows[0] ?? { user: '?', superuser: false };
}

/** Is the session's user a member of `role` (false when the role does not exist)? */
export async function isMemberOf(client: pg.ClientBase, role: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AND pg_has_role(current_user, $1, 'MEMBER') AS ok`,
    [role],
  );
  return r.rows[0]?.ok === true;
}

/** The owner of a table and whether the session's user acts as it (member of the owner role); undefined when there is no such table. */
export async function tableOwnership(client: pg.ClientBase, fqname: string): Promise<{ owner: string; mine: boolean } | undefined> {
  const { schema, name } = splitFqname(fqname);
  const r = await client.query<{ owner: string; mine: boolean }>(
    `SELECT pg_get_userbyid(c.relowner)::text AS owner, pg_has_role(current_user, c.relowner, 'MEMBER') AS mine
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  return r.rows[0];
}

/** May the session's user create objects (an index, a constraint's index) in the schema? */
export async function canCreateIn(client: pg.ClientBase, schema: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT has_schema_privilege(current_user, $1, 'CREATE') AS ok`, [schema]);
  return r.rows[0]?.ok === true;
}

/** May the session's user SELECT from the table? */
export async function canSelect(client: pg.ClientBase, fqname: string): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(`SELECT has_table_privilege(current_user, $1::regclass, 'SELECT') AS ok`, [quoteFqname(fqname)]);
  return r.rows[0]?.ok === true;
}
