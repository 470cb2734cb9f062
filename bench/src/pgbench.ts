/** Running pgbench against a throw-away cluster (over TCP, so inet_client_addr() is set). */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { clientBinDir, type PgCluster } from '@skytools/harness';

export interface PgbenchRun {
  tps: number;
  transactions: number;
}

let runs = 0;

/** Run pgbench (`-n` plus `args`) with `script`; resolves when it ends, so other work can go on meanwhile. */
export function runPgbench(cluster: PgCluster, db: string, script: string, args: string[]): Promise<PgbenchRun> {
  runs += 1;
  const file = join(tmpdir(), `skytools-bench-${process.pid}-${runs}.sql`);
  writeFileSync(file, script);
  return new Promise<PgbenchRun>((resolve, reject) => {
    const p = spawn(
      join(clientBinDir(), 'pgbench'),
      ['-n', ...args, '-f', file, '-h', '127.0.0.1', '-p', String(cluster.port), '-U', cluster.user, db],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`pgbench failed: ${err}`));
        return;
      }
      const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
      const transactions = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? NaN);
      resolve({ tps, transactions });
    });
  }).finally(() => rmSync(file, { force: true }));
}
