/**
 * compare's reading of one frozen table: row count and checksum on the root and on this node, at
 * the same time (two servers, so the time is the slower side's, not the sum), with a progress line
 * while they run: an aggregate cannot tell how far it is, so the line gives the time spent and the
 * planner's estimate of the rows.
 */
import { catalog, type Logger } from '@skytools/core';
import type { FreezeTarget, FrozenTable } from './table-freeze.js';

export interface Checksum {
  rows: string;
  /** null with --count-only */
  sum: string | null;
}

export interface ChecksumPair {
  root: Checksum;
  local: Checksum;
  equal: boolean;
}

export async function checksumBoth(f: FrozenTable, target: FreezeTarget, countOnly: boolean, log: Logger, progressEveryMs = 5000): Promise<ChecksumPair> {
  const names = f.columns.map((c) => c.name);
  const estimate = await catalog.estimatedRows(f.local, target.local);
  const started = Date.now();
  const what = countOnly ? 'counting' : 'checksumming';
  log.info(`${target.local}: ${what} (root at tick ${f.tick}${target.where === null ? '' : `, where ${target.where}`}${estimate === null ? '' : `, about ${String(estimate)} rows`})`);
  const timer = setInterval(() => {
    log.info(`${target.local}: still ${what}, ${String(Math.round((Date.now() - started) / 1000))}s${estimate === null ? '' : ` (about ${String(estimate)} rows)`}`);
  }, progressEveryMs);
  try {
    const [root, local] = await Promise.all([
      catalog.tableChecksum(f.root, target.table, names, target.where, countOnly),
      catalog.tableChecksum(f.local, target.local, names, null, countOnly),
    ]);
    return { root, local, equal: root.rows === local.rows && root.sum === local.sum };
  } finally {
    clearInterval(timer);
  }
}
