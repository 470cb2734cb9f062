/**
 * The SQL shipped under schema/: each schema directory has an `install.sql` manifest that pulls its
 * pieces in with psql's `\ir` (so a DBA can run `psql -1 -f schema/pgq/install.sql`), and a
 * `functions/<schema>.version.sql` whose literal is the shipped version.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkytoolsError } from './errors.js';

export type SchemaName = 'pgq' | 'pgq_ext' | 'pgq_coop' | 'pgq_node' | 'londiste';

/** Install order and what each schema needs first. */
export const SCHEMAS: readonly { name: SchemaName; requires: readonly SchemaName[] }[] = [
  { name: 'pgq', requires: [] },
  { name: 'pgq_ext', requires: [] },
  { name: 'pgq_coop', requires: ['pgq'] },
  { name: 'pgq_node', requires: ['pgq'] },
  { name: 'londiste', requires: ['pgq_node'] },
];

/**
 * The schema/ directory: SKYTOOLS_SCHEMA_DIR (set by the launchers `make install` writes), else the
 * first found from this module's directory upwards: a `schema/` there (the repository's, or the copy
 * a packed @skytools/core carries: `make dist`), or the one of a @skytools/core installed in a
 * `node_modules/` there. Upwards, because this module may sit in packages/core/dist/ or bundled
 * into the londiste command's file (packages/londiste/dist/bin/, or a packed londiste's dist/bin/
 * with core in its node_modules/); never above a node_modules directory.
 */
export function schemaDir(): string {
  const env = process.env['SKYTOOLS_SCHEMA_DIR'];
  if (env !== undefined && env !== '') return resolve(env);
  const start = dirname(fileURLToPath(import.meta.url));
  // not above a node_modules directory: what lies there belongs to other installations (a global
  // npm prefix may hold another version's SQL)
  for (let dir = start; basename(dir) !== 'node_modules'; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'schema'), join(dir, 'node_modules', '@skytools', 'core', 'schema')]) {
      if (existsSync(join(candidate, 'pgq', 'install.sql'))) return candidate;
    }
    if (dirname(dir) === dir) break;
  }
  throw new SkytoolsError(`the SQL files (schema/pgq/install.sql) are not found above ${start}: set SKYTOOLS_SCHEMA_DIR to the schema directory of this installation`);
}

/** Expand `\ir` / `\i` includes recursively and drop other psql meta-commands. */
export function expandManifest(file: string, seen: Set<string> = new Set()): string {
  const abs = resolve(file);
  if (seen.has(abs)) throw new SkytoolsError(`include cycle at ${abs}`);
  seen.add(abs);
  if (!existsSync(abs)) throw new SkytoolsError(`schema file missing: ${abs}`);
  const out: string[] = [];
  for (const line of readFileSync(abs, 'utf8').split('\n')) {
    const inc = /^\s*\\ir?\s+(\S+)\s*$/.exec(line);
    if (inc?.[1] !== undefined) {
      out.push(expandManifest(join(dirname(abs), inc[1]), seen));
    } else if (/^\s*\\/.test(line)) {
      continue; // \set ON_ERROR_STOP and friends are for psql only
    } else {
      out.push(line);
    }
  }
  seen.delete(abs);
  return out.join('\n');
}

export interface ShippedSchema {
  name: SchemaName;
  version: string;
  /** The whole install script with includes expanded. */
  sql: string;
  /** Content hash: lets the installer re-apply same-version scripts whose text changed. */
  hash: string;
}

export function shippedVersion(name: SchemaName, dir = schemaDir()): string {
  const file = join(dir, name, 'functions', `${name}.version.sql`);
  const m = /'(\d+(?:\.\d+)+)'/.exec(readFileSync(file, 'utf8'));
  if (m?.[1] === undefined) throw new SkytoolsError(`no version literal in ${file}`);
  return m[1];
}

export function loadShippedSchema(name: SchemaName, dir = schemaDir()): ShippedSchema {
  const sql = expandManifest(join(dir, name, 'install.sql'));
  return { name, version: shippedVersion(name, dir), sql, hash: createHash('sha256').update(sql).digest('hex').slice(0, 16) };
}

/** Compare dotted versions numerically: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
