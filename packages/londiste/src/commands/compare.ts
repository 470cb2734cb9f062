/** compare: this node's tables against the root's, each at one point of the event stream. */
import { londisteSql, UsageError } from '@skytools/core';
import { compareTable, compareTarget } from '../compare/table-compare.js';
import type { NodeAdmin } from '../node-admin.js';
import { expandObjectArgs } from '../object-args.js';
import type { Output } from './status.js';

export async function cmdCompare(admin: NodeAdmin, names: readonly string[], o: { all: boolean; waitSeconds: number }, out: Output): Promise<void> {
  const info = await admin.localNodeInfo();
  if (info.node_type === 'root') throw new UsageError('compare runs on a subscriber (branch or leaf): it compares that node with the root');
  const db = await admin.db();
  const tables = await expandObjectArgs(db, admin.log, admin.queue, 'r', true, names.length === 0 && !o.all ? [] : names, { all: o.all || names.length === 0, force: false });
  const rows = new Map((await londisteSql.getTableList(db, admin.queue)).map((t) => [t.table_name, t]));
  const busy = tables.filter((t) => rows.get(t)?.merge_state !== 'ok');
  if (busy.length > 0) throw new UsageError(`compare: ${busy.join(', ')} not in sync yet (wait-sync first); nothing was compared`);
  const differ: string[] = [];
  for (const [i, t] of tables.entries()) {
    const row = rows.get(t);
    const target = compareTarget(t, row?.dest_table ?? null, row?.table_attrs ?? null);
    admin.log.info(`compare ${String(i + 1)}/${String(tables.length)}: ${t}${target.local === t ? '' : ` -> ${target.local}`}`);
    const r = await compareTable(admin, target, o.waitSeconds * 1000);
    out(`${target.local}: root ${r.root.rows} rows, checksum ${r.root.sum}; ${info.node_name ?? 'local'} ${r.local.rows} rows, checksum ${r.local.sum}: ${r.equal ? 'equal' : 'DIFFERENT'}`);
    if (!r.equal) differ.push(target.local);
  }
  if (differ.length > 0) {
    throw new UsageError(`compare: ${String(differ.length)} of ${String(tables.length)} tables differ from the root: ${differ.join(', ')}; resync them (repair is not implemented yet)`);
  }
}
