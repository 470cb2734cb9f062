/** Sequence membership of a node: add-seq, remove-seq, seqs. */
import type pg from 'pg';
import { formatDisplayTable, quoteFqname, UsageError, withTransaction } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { expandObjectArgs } from '../object-args.js';
import { sequenceExists } from '../table-struct.js';
import type { Output } from './status.js';

interface SeqRow {
  seq_name: string;
  last_value: string;
  local: boolean;
}

async function seqList(client: pg.ClientBase, queue: string): Promise<Map<string, SeqRow>> {
  const r = await client.query<SeqRow>('SELECT seq_name, last_value, local FROM londiste.get_seq_list($1)', [queue]);
  return new Map(r.rows.map((row) => [row.seq_name, row]));
}

export async function cmdAddSeq(
  admin: NodeAdmin,
  names: readonly string[],
  o: { all: boolean; force: boolean; create: boolean; skipNonExisting: boolean },
): Promise<void> {
  const info = await admin.localNodeInfo();
  const dst = await admin.db();
  if (info.node_type !== 'root') {
    const src = await seqList(await admin.providerDb(), admin.queue);
    const local = await seqList(dst, admin.queue);
    await withTransaction(dst, async () => {
      for (const [name, row] of src) {
        if (!local.has(name)) {
          admin.log.info(`Sequence ${name} info missing from subscriber, adding`);
          await admin.exec(dst, 'SELECT * FROM londiste.global_update_seq($1, $2, $3)', [admin.queue, name, row.last_value], true);
        }
      }
      for (const name of local.keys()) {
        if (!src.has(name)) {
          admin.log.info(`Sequence ${name} gone but exists on subscriber, removing`);
          await admin.exec(dst, 'SELECT * FROM londiste.global_remove_seq($1, $2)', [admin.queue, name], true);
        }
      }
    });
  }
  const seqs = await expandObjectArgs(dst, admin.log, admin.queue, 'S', false, names, {
    all: o.all,
    force: o.force || o.create || o.skipNonExisting,
  });
  for (const seq of seqs) {
    if (!(await sequenceExists(dst, seq))) {
      if (o.create) {
        await dst.query(`CREATE SEQUENCE ${quoteFqname(seq)}`);
        admin.log.info(`Created sequence ${seq}`);
      } else if (o.skipNonExisting) {
        admin.log.warning(`Sequence "${seq}" missing on local node, skipping`);
        continue;
      } else {
        throw new UsageError(`Sequence "${seq}" missing on local node; create it first or use --create`);
      }
    }
    await admin.exec(dst, 'SELECT * FROM londiste.local_add_seq($1, $2)', [admin.queue, seq]);
  }
}

export async function cmdRemoveSeq(admin: NodeAdmin, names: readonly string[], o: { all: boolean; force: boolean }): Promise<void> {
  await admin.localNodeInfo();
  const db = await admin.db();
  const seqs = await expandObjectArgs(db, admin.log, admin.queue, 'S', true, names, o);
  for (const s of seqs) await admin.exec(db, 'SELECT * FROM londiste.local_remove_seq($1, $2)', [admin.queue, s]);
}

export async function cmdSeqs(admin: NodeAdmin, out: Output): Promise<void> {
  await admin.localNodeInfo();
  const db = await admin.db();
  const r = await db.query<SeqRow>('SELECT seq_name, local, last_value FROM londiste.get_seq_list($1) ORDER BY seq_name', [admin.queue]);
  const rows = r.rows.map((row) => [row.seq_name, row.local, row.last_value] as const);
  for (const l of formatDisplayTable('Sequences on node', ['seq_name', 'local', 'last_value'], rows)) out(l);
}
