/**
 * Installs or upgrades the schemas in a database: idempotent, version-aware, and serialised by an
 * advisory lock so two installers (two `create-root` runs, two test files) cannot collide.
 *
 * The installed state is read from `<schema>.version()` and from the schema's comment, which records
 * the script hash; a schema is (re)applied when missing, older, or same-version with different text.
 */
import type pg from 'pg';
import { ensurePlpgsql, installedState, recordInstalled, runScript } from './sql/installer.js';
import { advisoryXactLock, begin, commit, rollback } from './sql/session.js';
import { SkytoolsError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { compareVersions, loadShippedSchema, SCHEMAS, schemaDir, type SchemaName } from './schema-files.js';

/** Advisory lock key shared by every installer (any value; fixed so all installers agree). */
export const INSTALL_LOCK_KEY = 7_310_411_203;

export interface InstallOptions {
  logger?: Logger;
  /** Re-apply even when version and script are unchanged. */
  force?: boolean;
  schemaDir?: string;
}

export type InstallAction = 'installed' | 'upgraded' | 'reapplied' | 'unchanged';

export interface InstallResult {
  schema: SchemaName;
  action: InstallAction;
  from: string | null;
  version: string;
}

export class SchemaInstallError extends SkytoolsError {}

/** Resolve requested schemas plus their prerequisites, in install order. */
export function withPrerequisites(names: readonly SchemaName[]): SchemaName[] {
  const want = new Set<SchemaName>();
  const add = (n: SchemaName): void => {
    if (want.has(n)) return;
    for (const r of SCHEMAS.find((s) => s.name === n)?.requires ?? []) add(r);
    want.add(n);
  };
  names.forEach(add);
  return SCHEMAS.map((s) => s.name).filter((n) => want.has(n));
}

/**
 * Install `names` (and what they require) into the database `client` is connected to.
 * Runs in one transaction; nothing is left half-installed on error.
 */
export async function installSchemas(client: pg.ClientBase, names: readonly SchemaName[], options: InstallOptions = {}): Promise<InstallResult[]> {
  const log = options.logger ?? silentLogger;
  const dir = options.schemaDir ?? schemaDir();
  const order = withPrerequisites(names);
  const shipped = order.map((n) => loadShippedSchema(n, dir));
  const results: InstallResult[] = [];
  await begin(client);
  try {
    await advisoryXactLock(client, INSTALL_LOCK_KEY);
    log.info((await ensurePlpgsql(client)) ? 'Installed plpgsql' : 'plpgsql is installed');
    for (const s of shipped) {
      const state = await installedState(client, s.name);
      let action: InstallAction;
      if (state.version === null) action = 'installed';
      else {
        const cmp = compareVersions(state.version, s.version);
        if (cmp > 0) {
          throw new SchemaInstallError(
            `${s.name} ${state.version} in the database is newer than ${s.version} shipped with this tool; upgrade the tool instead of downgrading the schema`,
          );
        }
        if (cmp < 0) action = 'upgraded';
        else if (state.hash !== s.hash || options.force === true) action = 'reapplied';
        else action = 'unchanged';
      }
      if (action === 'unchanged') {
        log.info(`${s.name} ${s.version} is installed`);
      } else {
        log.info(action === 'installed' ? `Installing ${s.name} ${s.version}` : `Upgrading ${s.name} ${state.version ?? ''} -> ${s.version}`);
        log.debug(`  Reading from ${dir}/${s.name}/install.sql`);
        try {
          await runScript(client, s.sql);
        } catch (err) {
          throw new SchemaInstallError(`installing ${s.name} ${s.version} failed: ${(err as Error).message}`, { cause: err });
        }
        await recordInstalled(client, s.name, s.version, s.hash);
      }
      results.push({ schema: s.name, action, from: state.version, version: s.version });
    }
    await commit(client);
  } catch (err) {
    await rollback(client);
    throw err;
  }
  return results;
}
