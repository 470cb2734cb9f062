/**
 * Session and transaction statements: transactions and savepoints, the replica role the apply runs under,
 * lock_timeout, LISTEN, advisory locks. Everything else that talks to PostgreSQL goes through the
 * modules beside this one, one per SQL API.
 */
import type pg from 'pg';
import { quoteFqname, quoteLiteral } from '../identifiers.js';
import { pgDiagnostics } from '../errors.js';
import { SQLSTATE } from '../sqlstate.js';

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export interface BeginOptions {
  isolation?: Isolation;
  readOnly?: boolean;
}

export async function begin(client: pg.ClientBase, options: BeginOptions = {}): Promise<void> {
  const iso = options.isolation === undefined ? '' : ` ISOLATION LEVEL ${options.isolation.toUpperCase()}`;
  await client.query(`BEGIN${iso}${options.readOnly === true ? ' READ ONLY' : ''}`);
}

export async function commit(client: pg.ClientBase): Promise<void> {
  await client.query('COMMIT');
}

/** Roll back, ignoring a failure to do so (the connection may be the thing that broke). */
export async function rollback(client: pg.ClientBase): Promise<void> {
  await client.query('ROLLBACK').catch(() => undefined);
}

/** Run fn inside BEGIN/COMMIT, rolling back on any error. */
export async function withTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>, options: BeginOptions = {}): Promise<T> {
  await begin(client, options);
  try {
    const out = await fn();
    await commit(client);
    return out;
  } catch (err) {
    await rollback(client);
    throw err;
  }
}

/**
 * BEGIN with session_replication_role = replica for this transaction (one round trip): the
 * target's own triggers and foreign keys stay quiet while replicated changes are applied.
 */
export async function beginReplica(client: pg.ClientBase): Promise<void> {
  await client.query(`BEGIN; SET LOCAL session_replication_role = 'replica'`);
}

/** Inside a transaction: replica role for the rest of it. */
export async function setLocalReplicaRole(client: pg.ClientBase): Promise<void> {
  await client.query(`SET LOCAL session_replication_role = 'replica'`);
}

/** May this session apply replicated changes? Tries the setting in a transaction it rolls back. */
export async function canSetReplicaRole(client: pg.ClientBase): Promise<boolean> {
  await begin(client);
  try {
    await setLocalReplicaRole(client);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code !== SQLSTATE.insufficientPrivilege) throw err;
    return false;
  } finally {
    await rollback(client);
  }
}

/** How long statements of this session wait for a lock before failing (0: for ever). */
export async function setLockTimeout(client: pg.ClientBase, ms: number): Promise<void> {
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${Math.max(0, Math.round(ms))}ms`]);
}

/** The current role and the server's version number (e.g. 150004). */
export async function whoAmI(client: pg.ClientBase): Promise<{ user: string; serverVersion: number }> {
  const r = await client.query<{ u: string; v: number }>(`SELECT current_user AS u, current_setting('server_version_num')::int AS v`);
  return { user: r.rows[0]?.u ?? '?', serverVersion: r.rows[0]?.v ?? 0 };
}

/** LISTEN on a channel; notifications arrive as the client's 'notification' events. */
export async function listen(client: pg.ClientBase, channel: 'pgq_tick' | 'londiste_tables'): Promise<void> {
  await client.query(`LISTEN ${channel}`);
}

/** A session advisory lock on two int4 keys, without waiting: false when another session holds it. */
export async function tryAdvisoryLock(client: pg.ClientBase, a: number, b: number): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [a, b]);
  return r.rows[0]?.ok === true;
}

/** A session advisory lock on two int4 keys, waiting for it (at most lock_timeout). */
export async function advisoryLock(client: pg.ClientBase, a: number, b: number): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [a, b]);
}

/** In a transaction: the shared form of a two-key advisory lock until its end, without waiting; false when a session holds it exclusively. */
export async function tryAdvisoryXactLockShared(client: pg.ClientBase, a: number, b: number): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock_shared($1, $2) AS ok', [a, b]);
  return r.rows[0]?.ok === true;
}

/** Does some session of this database hold the two-key advisory lock? */
export async function advisoryLockHeld(client: pg.ClientBase, a: number, b: number): Promise<boolean> {
  // pg_locks shows the two int4 keys as classid/objid (oids: unsigned) with objsubid 2
  const r = await client.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND classid::int8 = ($1::int8 & 4294967295) AND objid::int8 = ($2::int8 & 4294967295)) AS held`,
    [a, b],
  );
  return r.rows[0]?.held === true;
}

/** Transaction-scoped advisory lock on one int8 key, waiting for it. */
export async function advisoryXactLock(client: pg.ClientBase, key: number): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [key]);
}

/**
 * Run `fn` in a savepoint of the caller's transaction: its result, or `undefined` (all it did
 * undone) when it failed with SQLSTATE `code`; any other failure is thrown as it is.
 */
export async function unlessFails<T>(client: pg.ClientBase, code: string, fn: () => Promise<T>): Promise<T | undefined> {
  await client.query('SAVEPOINT skytools_try');
  try {
    const r = await fn();
    await client.query('RELEASE SAVEPOINT skytools_try');
    return r;
  } catch (err) {
    if (pgDiagnostics(err).code !== code) {
      // undone here too, so that no savepoint outlives the call; a connection too broken for
      // that fails the caller's transaction anyway, with the first error
      await client.query('ROLLBACK TO SAVEPOINT skytools_try; RELEASE SAVEPOINT skytools_try').catch(() => undefined);
      throw err;
    }
    await client.query('ROLLBACK TO SAVEPOINT skytools_try');
    await client.query('RELEASE SAVEPOINT skytools_try');
    return undefined;
  }
}

/** The session_replication_role for the rest of the transaction. */
export async function setLocalRole(client: pg.ClientBase, role: 'origin' | 'replica' | 'local'): Promise<void> {
  await client.query(`SELECT set_config('session_replication_role', $1, true)`, [role]);
}

/**
 * Run a user's SQL script as it is (one simple-protocol query: several statements, in the
 * caller's transaction). Only for SQL the user gave as SQL (`execute` files).
 */
export async function runUserScript(client: pg.ClientBase, sql: string): Promise<void> {
  await client.query(sql);
}

/** Commits of this session wait for their WAL flush (synchronous_commit = on for this session). */
export async function setSynchronousCommit(client: pg.ClientBase): Promise<void> {
  await client.query(`SET synchronous_commit = on`);
}

/** Output settings under which a row's text is the same on every server version (compare). */
export async function setComparableOutput(client: pg.ClientBase): Promise<void> {
  await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'`);
}

/** In an open transaction: a SHARE lock on a table (writers wait; readers do not). */
export async function lockTableShare(client: pg.ClientBase, fqname: string): Promise<void> {
  await client.query(`LOCK TABLE ${quoteFqname(fqname)} IN SHARE MODE`);
}

/** In an open transaction: its snapshot, for another session to read the same data. */
export async function exportSnapshot(client: pg.ClientBase): Promise<string> {
  const r = await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
  const s = r.rows[0]?.s;
  if (s === undefined) throw new Error('pg_export_snapshot returned nothing');
  return s;
}

/** Start a repeatable-read transaction that sees what an exported snapshot saw. */
export async function beginWithSnapshot(client: pg.ClientBase, snapshot: string): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
}

/** What pg_stat_activity shows for this session from now on (e.g. the table a copy is at). */
export async function setApplicationName(client: pg.ClientBase, name: string): Promise<void> {
  await client.query(`SELECT set_config('application_name', $1, false)`, [name]);
}
