/** Running pgbench against a throw-away cluster (over TCP, so inet_client_addr() is set). */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { clientBinDir, type PgCluster } from '@skytools/harness';

export interface PgbenchRun {
  tps: number;
  transactions: number;
}

export function runPgbench(cluster: PgCluster, db: string, script: string, args: string[]): PgbenchRun {
  const file = join(tmpdir(), `skytools-bench-${process.pid}.sql`);
  writeFileSync(file, script);
  const r = spawnSync(
    join(clientBinDir(), 'pgbench'),
    ['-n', ...args, '-f', file, '-h', '127.0.0.1', '-p', String(cluster.port), '-U', cluster.user, db],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`pgbench failed: ${r.stderr}`);
  const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(r.stdout)?.[1] ?? NaN);
  return { tps, transactions };
}
