/** Sequence membership of a node: add-seq, remove-seq, seqs. */
import { catalog, formatDisplayTable, londisteSql, quietLogger, session, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { expandObjectArgs } from '../object-args.js';
import { createSequence } from '../sql/table-ddl.js';
import { mirrorProviderList } from './provider-list.js';
import type { Output } from './status.js';

export async function cmdAddSeq(
  admin: NodeAdmin,
  names: readonly string[],
  o: { all: boolean; force: boolean; create: boolean; skipNonExisting: boolean },
): Promise<void> {
  const info = await admin.localNodeInfo();
  const dst = await admin.db();
  if (info.node_type !== 'root') {
    const src = await londisteSql.getSeqList(await admin.providerDb(), admin.queue);
    const local = await londisteSql.getSeqList(dst, admin.queue);
    const quiet = quietLogger(admin.log);
    await session.withTransaction(dst, () =>
      mirrorProviderList(admin.log, 'Sequence', src.map((s) => s.seq_name), local.map((s) => s.seq_name), {
        add: (name) => londisteSql.globalUpdateSeq(dst, quiet, admin.queue, name, src.find((s) => s.seq_name === name)?.last_value ?? null),
        remove: (name) => londisteSql.globalRemoveSeq(dst, quiet, admin.queue, name),
      }),
    );
  }
  const seqs = await expandObjectArgs(dst, admin.log, admin.queue, 'S', false, names, {
    all: o.all,
    force: o.force,
    allowMissing: o.create || o.skipNonExisting,
  });
  for (const seq of seqs) {
    if (!(await catalog.relationExists(dst, seq, 'sequence'))) {
      if (o.create) {
        await createSequence(dst, seq);
        admin.log.info(`Created sequence ${seq}`);
      } else if (o.skipNonExisting) {
        admin.log.warning(`Sequence "${seq}" missing on local node: left out as --skip-non-existing asks`);
        continue;
      } else {
        throw new UsageError(`Sequence "${seq}" missing on local node; create it first or use --create`);
      }
    }
    await londisteSql.localAddSeq(dst, admin.log, admin.queue, seq);
  }
}

export async function cmdRemoveSeq(admin: NodeAdmin, names: readonly string[], o: { all: boolean; force: boolean }): Promise<void> {
  await admin.localNodeInfo();
  const db = await admin.db();
  const seqs = await expandObjectArgs(db, admin.log, admin.queue, 'S', true, names, o);
  for (const s of seqs) await londisteSql.localRemoveSeq(db, admin.log, admin.queue, s);
}

export async function cmdSeqs(admin: NodeAdmin, out: Output): Promise<void> {
  await admin.localNodeInfo();
  const rows = (await londisteSql.getSeqList(await admin.db(), admin.queue)).map((row) => [row.seq_name, row.local, row.last_value] as const);
  for (const l of formatDisplayTable('Sequences on node', ['seq_name', 'local', 'last_value'], rows)) out(l);
}
