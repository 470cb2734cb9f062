/**
 * `execute FILE...`: DDL (or any SQL) run on this node and, from the root, on every node of the
 * cascade in order with the data: each file runs with its bookkeeping in one transaction here,
 * and the root queues it as an EXECUTE event. See docs/londiste.md for the file attributes.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { session, UsageError } from '@skytools/core';
import { ExecAttrs } from '../execute/exec-attrs.js';
import { runExecute, type ExecuteScript } from '../execute/execute-script.js';
import type { NodeAdmin } from '../node-admin.js';

function readScript(path: string): ExecuteScript {
  let sql: string;
  try {
    sql = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const file = basename(path);
  if (sql.trim() === '') throw new UsageError(`${path} is empty`);
  return { file, sql, attrs: ExecAttrs.fromScript(sql, file) };
}

export async function cmdExecute(admin: NodeAdmin, files: readonly string[]): Promise<void> {
  if (files.length === 0) throw new UsageError('execute needs at least one SQL file');
  // every file read and its attributes checked before anything runs
  const scripts = files.map(readScript);
  const names = new Set<string>();
  for (const s of scripts) {
    if (names.has(s.file)) throw new UsageError(`${s.file} is given twice (files are known by name on every node)`);
    names.add(s.file);
  }
  const info = await admin.localNodeInfo();
  const isRoot = info.node_type === 'root';
  if (!isRoot) {
    admin.log.warning(`${info.node_name ?? '?'} is a ${info.node_type ?? '?'} node: the scripts change this node only; run execute on the root to change the cascade`);
  }
  const db = await admin.db();
  await session.withTransaction(db, async () => {
    for (const s of scripts) await runExecute(db, admin.log, admin.queue, s, { expectRoot: isRoot, roleAfter: 'origin' });
  });
}
