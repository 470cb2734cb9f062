/**
 * Upstream Londiste as an anchor: a leaf of the rig's root in another database of the target
 * cluster, with upstream's own schema (Debian's PgQ, pgq_node and londiste extensions) and
 * upstream's Python worker. Only where the target is the system PostgreSQL 15 those packages are
 * built for, and they are installed (`make bench` installs them when run as root with apt).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSeedSchema, findInstall, type PgCluster } from '@skytools/harness';
import { QUEUE, stopProcess, tablesInSync, until, waitApplied, type Rig } from './replication-rig.js';

const LONDISTE = '/usr/bin/londiste';
const NODE = 'upstream_leaf';

/** Why upstream Londiste cannot be measured here, or undefined. */
export function upstreamMissing(dstMajor: number): string | undefined {
  if (dstMajor !== 15) return `the target is PostgreSQL ${dstMajor}; Debian's upstream packages are built for the system PostgreSQL 15`;
  if (findInstall(15).source !== 'system') return 'PostgreSQL 15 is not the system one';
  for (const f of [LONDISTE, '/usr/share/postgresql/15/extension/pgq.control', '/usr/share/postgresql/15/extension/londiste.control']) {
    if (!existsSync(f)) return `${f} missing (install python3-londiste postgresql-15-pgq3 postgresql-15-pgq-node postgresql-15-londiste-sql, or run make bench as root with apt)`;
  }
  return undefined;
}

export class UpstreamReplica {
  private worker: ChildProcess | undefined;

  private constructor(
    private readonly rig: Rig,
    readonly db: string,
    private readonly ini: string,
  ) {}

  /** The leaf set up with upstream's tool, its tables copied by upstream's worker; resolves once all are ok. */
  static async create(
    rig: Rig,
    db: string,
    tables: string[],
    prepare?: (dst: PgCluster, db: string) => Promise<void>,
    jobKeys: Record<string, string | number> = {},
  ): Promise<{ replica: UpstreamReplica; syncSeconds: number }> {
    await rig.dst.createDatabase(db);
    await rig.dst.withClient(db, async (c) => {
      await createSeedSchema(c, { users: 0, keyedLogs: true });
      await c.query('CREATE EXTENSION pgq; CREATE EXTENSION pgq_node; CREATE EXTENSION londiste');
    });
    if (prepare !== undefined) await prepare(rig.dst, db);
    const ini = join(rig.work, `${NODE}.ini`);
    const extra = Object.entries(jobKeys).map(([k, v]) => `${k} = ${v}\n`).join('');
    writeFileSync(ini, `[londiste]\njob_name = ${NODE}\ndb = ${rig.dst.connectionString(db)}\nqueue_name = ${QUEUE}\nlogfile = ${join(rig.work, `${NODE}.log`)}\npidfile = ${join(rig.work, `${NODE}.pid`)}\n${extra}`);
    const replica = new UpstreamReplica(rig, db, ini);
    replica.run(['create-leaf', NODE, rig.dst.connectionString(db), `--provider=${rig.src.connectionString(rig.srcDb)}`]);
    const names = tables.map((t) => (t.includes('.') ? t : `digoal_01.${t}`));
    replica.run(['add-table', ...names]);
    // the probe's connection opened before the clock starts and asked every 20 ms, as for ours
    // (Rig.addTables); the clock includes the worker's start, which ours has behind it
    const syncSeconds = await rig.dst.withClient(db, async (probe) => {
      const t0 = performance.now();
      replica.start();
      await until('upstream Londiste to copy the tables', 1_800_000, async () => (await tablesInSync(probe)) >= names.length, 20);
      return (performance.now() - t0) / 1000;
    });
    return { replica, syncSeconds };
  }

  private run(args: string[]): void {
    const r = spawnSync(LONDISTE, [this.ini, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`upstream londiste ${args.join(' ')} failed: ${r.stderr}`);
  }

  start(): void {
    if (this.worker !== undefined && this.worker.exitCode === null && this.worker.signalCode === null) return;
    this.worker = spawn(LONDISTE, [this.ini, 'worker'], { stdio: 'ignore' });
  }

  async stop(): Promise<void> {
    await stopProcess(this.worker);
    this.worker = undefined;
  }

  /** Wait until upstream's worker has applied every event committed so far. */
  async waitCaughtUp(timeoutMs = 1_800_000): Promise<number> {
    return waitApplied(this.rig, this.db, NODE, timeoutMs);
  }
}
