/**
 * A root and a leaf on two clusters (the oldest and the newest tested version), made with the CLI,
 * a ticker on the root and both workers running: the set-up of the tests that check one thing
 * between a provider and a subscriber across versions.
 */
import assert from 'node:assert/strict';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste } from '../cli/run-londiste.js';
import { startTicker, startWorker, tableDigest, waitCaughtUp, waitFor, type RunningWorker } from './replication-env.js';

export class RootLeaf {
  private readonly jobs = jobDir();
  readonly rootDb: string;
  readonly leafDb: string;
  rootJob = '';
  leafJob = '';
  private rootWorker: RunningWorker | undefined;
  leafWorker: RunningWorker | undefined;
  private ticker: { stop: () => Promise<void> } | undefined;

  private constructor(
    readonly root: PgCluster,
    readonly leaf: PgCluster,
    prefix: string,
    readonly queue: string,
  ) {
    this.rootDb = `${prefix}_root`;
    this.leafDb = `${prefix}_leaf`;
  }

  static get versions(): { root: number; leaf: number } {
    const v = testVersions();
    return { root: v[0] ?? 15, leaf: v.at(-1) ?? 15 };
  }

  /** Databases `PREFIX_root` and `PREFIX_leaf`, the nodes, the ticker and both workers. */
  static async start(prefix: string, queue: string, leafKeys: Record<string, string> = {}): Promise<RootLeaf> {
    const [root, leaf] = await Promise.all([startCluster(RootLeaf.versions.root), startCluster(RootLeaf.versions.leaf)]);
    const rl = new RootLeaf(root, leaf, prefix, queue);
    await root.createDatabase(rl.rootDb);
    await leaf.createDatabase(rl.leafDb);
    rl.rootJob = rl.jobs.write(rl.rootDb, { db: root.connectionString(rl.rootDb), queue_name: queue, loop_delay: '200ms' });
    rl.leafJob = rl.jobs.write(rl.leafDb, { db: leaf.connectionString(rl.leafDb), queue_name: queue, loop_delay: '200ms', ...leafKeys });
    ok(await runLondiste([rl.rootJob, 'create-root', rl.rootDb]), 'create-root');
    ok(await runLondiste([rl.leafJob, 'create-leaf', rl.leafDb, `--provider=${root.connectionString(rl.rootDb)}`]), 'create-leaf');
    rl.ticker = startTicker(root, rl.rootDb, 100);
    rl.rootWorker = startWorker(rl.rootJob);
    rl.leafWorker = startWorker(rl.leafJob);
    return rl;
  }

  /** The last lines of both workers' output, for failure messages. */
  readonly diag = (): string =>
    [this.rootWorker, this.leafWorker].map((w) => (w?.output() ?? '').split('\n').slice(-20).join('\n')).join('\n----\n');

  async stopLeafWorker(): Promise<void> {
    await this.leafWorker?.stop();
    this.leafWorker = undefined;
  }

  startLeafWorker(): RunningWorker {
    this.leafWorker = startWorker(this.leafJob);
    return this.leafWorker;
  }

  /** The table's state on the leaf (undefined: not replicated there). */
  async state(table: string): Promise<string | null | undefined> {
    const r = await this.leaf.query<{ s: string | null }>(this.leafDb, 'SELECT merge_state AS s FROM londiste.get_table_list($1) WHERE table_name = $2 AND local', [this.queue, table]);
    return r.length === 0 ? undefined : (r[0]?.s ?? null);
  }

  async inSync(table: string): Promise<void> {
    await waitFor(`${table} in sync`, 120_000, async () => ((await this.state(table)) === 'ok' ? true : undefined), this.diag);
  }

  /** Once the leaf applied everything: the rows of `leafSql` there equal those of `rootSql` on the root (and there are some). */
  async sameData(rootSql: string, leafSql: string): Promise<void> {
    await waitCaughtUp(this.root, this.rootDb, this.leaf, this.leafDb, this.queue, this.leafDb, 60_000, this.diag);
    const a = await tableDigest(this.root, this.rootDb, rootSql);
    assert.ok(a.rows > 0, `${rootSql} has rows`);
    assert.deepEqual(await tableDigest(this.leaf, this.leafDb, leafSql), a, `${leafSql} on the leaf equals ${rootSql} on the root`);
  }

  async stop(): Promise<void> {
    await this.rootWorker?.stop();
    await this.leafWorker?.stop();
    await this.ticker?.stop();
    this.jobs.remove();
    await Promise.all([this.root.stop(), this.leaf.stop()]);
  }
}
