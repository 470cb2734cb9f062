/**
 * repair: the rows of this node's tables that differ from the root's, as the SQL that fixes them
 * (stdout or --output), applied here with --apply; each table frozen at one point of the stream as
 * compare does.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { UsageError } from '@skytools/core';
import { withFrozenTable } from '../compare/table-freeze.js';
import { repairTable } from '../compare/table-repair.js';
import { syncedTargets } from '../compare/synced-targets.js';
import type { NodeAdmin } from '../node-admin.js';
import type { Output } from './status.js';

export interface RepairCommandOptions {
  all: boolean;
  apply: boolean;
  /** File for the SQL; default stdout (without --apply) or nowhere (with it). */
  output: string | undefined;
  waitSeconds: number;
}

async function openOutput(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { flags: 'w' });
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new UsageError(`repair --output ${path}: ${(err as Error).message}; nothing was read or changed`, { cause: err });
  }
  return stream;
}

async function closeOutput(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

export async function cmdRepair(admin: NodeAdmin, names: readonly string[], o: RepairCommandOptions, out: Output): Promise<void> {
  const { nodeName, targets } = await syncedTargets(admin, 'repair', names, o.all);
  const file = o.output === undefined ? null : await openOutput(o.output);
  const write = async (sql: string): Promise<void> => {
    if (file !== null) {
      if (!file.write(`${sql}\n`)) await once(file, 'drain');
    } else if (!o.apply) {
      out(sql);
    }
  };
  const differ: string[] = [];
  try {
    await write(`-- londiste repair: node ${nodeName} of queue ${admin.queue} against the root, ${new Date().toISOString()}`);
    for (const [i, target] of targets.entries()) {
      admin.log.info(`repair ${String(i + 1)}/${String(targets.length)}: ${target.table}${target.local === target.table ? '' : ` -> ${target.local}`}`);
      const r = await withFrozenTable(admin, target, o.waitSeconds * 1000, 'repair', (f) =>
        repairTable(f, target, { apply: o.apply, write, localConnstr: admin.job.db, appName: `londiste ${admin.job.job_name} repair`, log: admin.log }),
      );
      const n = r.missing + r.changed + r.extra;
      if (n > 0) differ.push(target.local);
      if (o.apply) out(`${target.local}: ${n === 0 ? 'equal to the root, nothing to fix' : `fixed ${String(r.missing)} missing, ${String(r.changed)} different and ${String(r.extra)} extra rows; now equal to the root`}`);
    }
  } finally {
    if (file !== null) await closeOutput(file);
  }
  const where = o.output === undefined ? (o.apply ? '' : ' (SQL on stdout)') : ` (SQL in ${o.output})`;
  admin.log.info(
    differ.length === 0
      ? `repair: ${String(targets.length)} tables equal to the root, nothing to fix`
      : `repair: ${String(differ.length)} of ${String(targets.length)} tables ${o.apply ? 'fixed' : 'differ'}: ${differ.join(', ')}${where}`,
  );
}
