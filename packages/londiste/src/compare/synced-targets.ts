/**
 * The tables compare and repair work on: named ones (globs) or all, each in sync on this node
 * (a table still copying or catching up has nothing to compare yet), with its local name and filter.
 */
import { londisteSql, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { expandObjectArgs } from '../object-args.js';
import { freezeTarget, type FreezeTarget } from './table-freeze.js';

export async function syncedTargets(admin: NodeAdmin, command: string, names: readonly string[], all: boolean): Promise<{ nodeName: string; targets: FreezeTarget[] }> {
  const info = await admin.localNodeInfo();
  if (info.node_type === 'root') throw new UsageError(`${command} runs on a subscriber (branch or leaf): it compares that node with the root`);
  const db = await admin.db();
  const tables = await expandObjectArgs(db, admin.log, admin.queue, 'r', true, names.length === 0 && !all ? [] : names, { all: all || names.length === 0, force: false });
  const rows = new Map((await londisteSql.getTableList(db, admin.queue)).map((t) => [t.table_name, t]));
  const busy = tables.filter((t) => rows.get(t)?.merge_state !== 'ok');
  if (busy.length > 0) throw new UsageError(`${command}: ${busy.join(', ')} not in sync yet (wait-sync first); nothing was read`);
  const targets = tables.map((t) => freezeTarget(t, rows.get(t)?.dest_table ?? null, rows.get(t)?.table_attrs ?? null));
  return { nodeName: info.node_name ?? 'local', targets };
}
