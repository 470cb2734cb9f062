/**
 * What the schema installer asks the database and runs in it: the installed version and script
 * hash of a schema, the plpgsql language, the install script itself and the hash comment.
 */
import type pg from 'pg';
import { SkytoolsError } from '../errors.js';

export type InstalledSchemaName = 'pgq' | 'pgq_ext' | 'pgq_coop' | 'pgq_node' | 'londiste';

export interface InstalledState {
  version: string | null;
  /** Hash of the install script, recorded in the schema's comment by the installer. */
  hash: string | null;
}

export async function installedState(client: pg.ClientBase, name: InstalledSchemaName): Promise<InstalledState> {
  const r = await client.query<{ has_fn: boolean; comment: string | null }>(
    `SELECT to_regprocedure($1) IS NOT NULL AS has_fn,
            (SELECT obj_description(n.oid, 'pg_namespace') FROM pg_catalog.pg_namespace n WHERE n.nspname = $2) AS comment`,
    [`${name}.version()`, name],
  );
  const row = r.rows[0];
  if (row === undefined || !row.has_fn) return { version: null, hash: null };
  // the name is one of four fixed schema names, never user text
  const v = await client.query<{ v: string | null }>(`SELECT ${name}.version() AS v`);
  const hash = /\bsha256:([0-9a-f]+)/.exec(row.comment ?? '')?.[1] ?? null;
  return { version: v.rows[0]?.v ?? null, hash };
}

/** Make sure plpgsql exists (it does by default since 9.0); true when it had to be created. */
export async function ensurePlpgsql(client: pg.ClientBase): Promise<boolean> {
  const lang = await client.query(`SELECT 1 FROM pg_catalog.pg_language WHERE lanname = 'plpgsql'`);
  if ((lang.rowCount ?? 0) > 0) return false;
  await client.query('CREATE LANGUAGE plpgsql');
  return true;
}

/** Run a whole install script (many statements, no parameters). */
export async function runScript(client: pg.ClientBase, sql: string): Promise<void> {
  await client.query(sql);
}

/** Record version and script hash in the schema's comment: what installedState() reads back. */
export async function recordInstalled(client: pg.ClientBase, name: InstalledSchemaName, version: string, hash: string): Promise<void> {
  if (!/^[0-9.]+$/.test(version) || !/^[0-9a-f]+$/.test(hash)) throw new SkytoolsError(`bad version or hash for ${name}: ${version} ${hash}`);
  await client.query(`COMMENT ON SCHEMA ${name} IS 'skytools-ts ${name} ${version} sha256:${hash}'`);
}
