/** Running pgbench against a throw-away cluster (over TCP, so inet_client_addr() is set). */
import { spawn, spawnSync } from 'node:child_process';
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
  return parsePgbench(r.stdout);
}

function parsePgbench(stdout: string): PgbenchRun {
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? NaN);
  return { tps, transactions };
}

/** pgbench in the background: resolves when it ends. */
export function runPgbenchAsync(cluster: PgCluster, db: string, script: string, args: string[]): Promise<PgbenchRun> {
  const file = join(tmpdir(), `skytools-bench-${process.pid}-${Date.now()}.sql`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
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
      resolve(parsePgbench(out));
    });
  });
}
