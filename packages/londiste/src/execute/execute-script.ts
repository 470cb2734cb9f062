/**
 * Running one `execute` script on a node, in the caller's transaction, with the bookkeeping of
 * londiste.execute_start/execute_finish: the root (through `londiste execute`) and every node
 * downstream (when the EXECUTE event arrives, in order with the data events) go through here.
 * A file already applied is skipped when its text is the same and refused when it differs.
 */
import type pg from 'pg';
import { londisteSql, session, SkytoolsError, UsageError, type Logger } from '@skytools/core';
import { createHash } from 'node:crypto';
import { ExecAttrs, type LocalObjects } from './exec-attrs.js';

export type ExecuteOutcome = 'applied' | 'not-needed' | 'already-applied';

export interface ExecuteScript {
  /** File name (without directories): the script's identity on every node. */
  file: string;
  sql: string;
  attrs: ExecAttrs;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** What a node replicates, for deciding where a script applies and for renaming. */
export async function localObjects(client: pg.ClientBase, queue: string): Promise<LocalObjects> {
  const tables = new Map<string, string>();
  for (const t of await londisteSql.getTableList(client, queue)) if (t.local) tables.set(t.table_name, t.dest_table ?? t.table_name);
  const seqs = new Set((await londisteSql.getSeqList(client, queue)).filter((s) => s.local).map((s) => s.seq_name));
  return { tables, seqs };
}

/**
 * Run `script` here unless this node applied it before. `expectRoot`: refuse unless this is the
 * root. `roleAfter`: the session_replication_role to go back to (the script runs under 'local',
 * so that this node's capture triggers stay quiet: the EXECUTE event carries the change).
 */
export async function runExecute(
  client: pg.ClientBase,
  log: Logger,
  queue: string,
  script: ExecuteScript,
  options: { expectRoot: boolean; roleAfter: 'origin' | 'replica' },
): Promise<ExecuteOutcome> {
  const before = await londisteSql.appliedExecuteSql(client, script.file);
  if (before !== null) {
    if (before === script.sql) {
      log.info(`${script.file}: already applied on this node, skipping`);
      return 'already-applied';
    }
    throw new UsageError(
      `${script.file} was applied on this node with other content (sha256 ${hash(before)}, now ${hash(script.sql)}); a changed script needs a new file name`,
    );
  }
  const code = await londisteSql.executeStart(client, log, queue, script.file, script.sql, options.expectRoot, script.attrs.encode());
  if (code === 201) return 'already-applied';
  const local = await localObjects(client, queue);
  let outcome: ExecuteOutcome = 'not-needed';
  if (await script.attrs.applies(client, local, script.file)) {
    log.info(`${script.file}: executing sql`);
    await session.setLocalRole(client, 'local');
    try {
      await session.runUserScript(client, script.attrs.localize(script.sql, local));
    } catch (err) {
      throw new SkytoolsError(`${script.file} failed: ${(err as Error).message}`, { cause: err });
    }
    await session.setLocalRole(client, options.roleAfter);
    outcome = 'applied';
  } else {
    log.info(`${script.file}: this script does not apply on this node (${script.attrs.describe()})`);
  }
  await londisteSql.executeFinish(client, log, queue, script.file);
  return outcome;
}
