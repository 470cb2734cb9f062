/**
 * pg-boss as a same-run anchor for consumer-throughput (issue 17): a widely used job queue on
 * PostgreSQL for Node.js. It is not a dependency of this project: the benchmark installs a pinned
 * version into .scratch/ with npm (skipped, with the reason, when npm cannot fetch it) and loads it
 * from there. Measured on the same cluster as our consumer: jobs inserted 1000 per call, and
 * workers with batches as big as our consumer's draining the backlog.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot, type PgCluster } from '@skytools/harness';

export const PG_BOSS_VERSION = '10.3.2';
/** Jobs per fetch and workers (the machine's two cores). */
export const BATCH = 20_000;
export const WORKERS = 2;

/** The part of pg-boss 10's API used here. */
interface Boss {
  on(event: 'error', listener: (err: unknown) => void): void;
  start(): Promise<unknown>;
  stop(options?: { graceful?: boolean; wait?: boolean }): Promise<void>;
  createQueue(name: string): Promise<void>;
  insert(jobs: { name: string; data?: object }[]): Promise<void>;
  getQueueSize(name: string, options: { before: 'completed' }): Promise<number>;
  work(name: string, options: { batchSize: number; pollingIntervalSeconds: number }, handler: (jobs: unknown[]) => Promise<void>): Promise<string>;
}
type BossClass = new (options: { connectionString: string; max?: number }) => Boss;

/** pg-boss's constructor, installed on first use; a string says why it is not available. */
export function loadPgBoss(): BossClass | string {
  const dir = join(repoRoot(), '.scratch', `pg-boss-${PG_BOSS_VERSION}`);
  const pkg = join(dir, 'node_modules', 'pg-boss', 'package.json');
  if (!existsSync(pkg)) {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', dir, `pg-boss@${PG_BOSS_VERSION}`], { stdio: 'pipe', timeout: 180_000 });
    } catch (err) {
      return `npm could not install pg-boss@${PG_BOSS_VERSION} (${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)})`;
    }
  }
  return createRequire(pkg)('pg-boss') as BossClass;
}

export interface PgBossRates {
  insertPerSecond: number;
  workPerSecond: number;
}

/** Insert `total` jobs 1000 per call, then drain them with WORKERS workers taking batches of BATCH (timed until all are completed). */
export async function measurePgBoss(PgBoss: BossClass, cluster: PgCluster, db: string, total: number): Promise<PgBossRates> {
  const boss = new PgBoss({ connectionString: cluster.url(db), max: 4 });
  const errors: unknown[] = [];
  boss.on('error', (err) => errors.push(err));
  await boss.start();
  try {
    await boss.createQueue('orders');
    const t0 = performance.now();
    for (let done = 0; done < total; done += 1000) {
      await boss.insert(Array.from({ length: Math.min(1000, total - done) }, (_, i) => ({ name: 'orders', data: { id: done + i, total: 99.5, note: 'bench' } })));
    }
    const insertPerSecond = total / ((performance.now() - t0) / 1000);
    let seen = 0;
    let finished: () => void = () => undefined;
    const allSeen = new Promise<void>((resolve) => (finished = resolve));
    const t1 = performance.now();
    // a worker sleeps out its polling interval even after a full batch, so the batch size bounds
    // its rate: batches as big as our consumer's, and one worker per core
    for (let w = 0; w < WORKERS; w++) {
      await boss.work('orders', { batchSize: BATCH, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        seen += jobs.length;
        if (seen >= total) finished();
        await Promise.resolve();
      });
    }
    await allSeen;
    // done when completed, as our consumer's batches are (its run ends after the last commit)
    while ((await boss.getQueueSize('orders', { before: 'completed' })) > 0) await new Promise((r) => setTimeout(r, 20));
    const workPerSecond = total / ((performance.now() - t1) / 1000);
    if (errors.length > 0) throw new Error(`pg-boss reported errors: ${String(errors[0])}`);
    return { insertPerSecond, workPerSecond };
  } finally {
    await boss.stop({ graceful: true, wait: true });
  }
}
