/** compare: this node's tables against the root's, each at one point of the event stream. */
import { UsageError } from '@skytools/core';
import { checksumBoth } from '../compare/table-checksum.js';
import { withFrozenTable } from '../compare/table-freeze.js';
import { syncedTargets } from '../compare/synced-targets.js';
import type { NodeAdmin } from '../node-admin.js';
import type { Output } from './status.js';

export async function cmdCompare(admin: NodeAdmin, names: readonly string[], o: { all: boolean; countOnly: boolean; waitSeconds: number }, out: Output): Promise<void> {
  const { nodeName, targets } = await syncedTargets(admin, 'compare', names, o.all);
  const differ: string[] = [];
  for (const [i, target] of targets.entries()) {
    admin.log.info(`compare ${String(i + 1)}/${String(targets.length)}: ${target.table}${target.local === target.table ? '' : ` -> ${target.local}`}`);
    const r = await withFrozenTable(admin, target, o.waitSeconds * 1000, 'compare', (f) => checksumBoth(f, target, o.countOnly, admin.log));
    const side = (c: { rows: string; sum: string | null }): string => `${c.rows} rows${c.sum === null ? '' : `, checksum ${c.sum}`}`;
    out(`${target.local}: root ${side(r.root)}; ${nodeName} ${side(r.local)}: ${r.equal ? 'equal' : 'DIFFERENT'}`);
    if (!r.equal) differ.push(target.local);
  }
  if (differ.length > 0) {
    throw new UsageError(`compare: ${String(differ.length)} of ${String(targets.length)} tables differ from the root: ${differ.join(', ')}; see the differing rows with: repair ${differ.join(' ')}`);
  }
}
