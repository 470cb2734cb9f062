// londisted's consumer jobs (docs/londisted.md, "Consumer jobs"): a queue_mover, a queue_splitter,
// a simple_consumer, a simple_local_consumer and a module job, all on one source queue, each
// checked on its target's data (every event once, fields kept); a job file removed and put back
// with SIGHUP stops and resumes its job without losing events; a job file with a key its type does
// not use is refused (the other jobs run on), and the londiste command refuses consumer jobs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas } from '@skytools/core';
import { insertEvents } from '@skytools/pgq';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, refused, runLondiste } from '../cli/run-londiste.js';
import { londistedBin, spawnDaemon, type Daemon } from '../replication/daemon-env.js';
import { startTicker, waitFor } from '../replication/replication-env.js';

const major = testVersions().at(-1) ?? 15;

describe(`londisted consumer jobs, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  let ticker: { stop: () => Promise<void> } | undefined;
  let londisted: Daemon | undefined;
  const jobs = jobDir();
  const work = mkdtempSync(join(tmpdir(), 'skytools-consumer-jobs-'));
  let produced = 0;

  const write = (name: string, body: Record<string, string>): string => jobs.write(name, body);
  const count = async (db: string, sql: string): Promise<number> => (await cluster.query<{ n: number }>(db, sql))[0]?.n ?? -1;
  /** Events of a queue on the target: count, distinct source ids (kept in ev_extra2), and the types and data seen. */
  const queueRows = async (queue: string): Promise<{ n: number; ids: number; bad: number }> => {
    const pfx = (await cluster.query<{ t: string }>('dst', 'SELECT queue_data_pfx AS t FROM pgq.queue WHERE queue_name = $1', [queue]))[0]?.t ?? '';
    return (
      (await cluster.query<{ n: number; ids: number; bad: number }>(
        'dst',
        `SELECT count(*)::int AS n, count(DISTINCT ev_extra2)::int AS ids,
                count(*) FILTER (WHERE ev_type <> 'I:id' OR ev_data NOT LIKE 'id=%&name=n%')::int AS bad FROM ${pfx}`,
      ))[0] ?? { n: -1, ids: -1, bad: -1 }
    );
  };
  const produce = async (n: number): Promise<void> => {
    await cluster.withClient('src', async (c) => {
      await insertEvents(
        c,
        'events',
        Array.from({ length: n }, (_, k) => {
          const i = produced + k;
          return { type: 'I:id', data: `id=${String(i)}&name=n${String(i)}%20x`, extra1: i % 3 === 0 ? 'split_a' : 'split_b', extra2: String(i) };
        }),
      );
    });
    produced += n;
  };

  before(async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('src');
    await cluster.createDatabase('dst');
    await cluster.withClient('src', async (c) => {
      await installSchemas(c, ['pgq']);
      await c.query(`SELECT pgq.create_queue('events')`);
      await c.query('CREATE TABLE local_log (ev_id bigint, name text)');
    });
    await cluster.withClient('dst', async (c) => {
      await installSchemas(c, ['pgq', 'pgq_ext']);
      for (const q of ['moved', 'split_a', 'split_b']) await c.query('SELECT pgq.create_queue($1)', [q]);
      await c.query('CREATE TABLE log (ev_id bigint, ev_type text, name text)');
      await c.query('CREATE TABLE mod_log (ev_id bigint, extra1 text)');
    });
    ticker = startTicker(cluster, 'src', 100);
    const src = cluster.connectionString('src');
    const dst = cluster.connectionString('dst');
    const common = { src_db: src, queue_name: 'events', loop_delay: '500ms' };
    write('mover', { ...common, job_type: 'queue_mover', dst_db: dst, dst_queue_name: 'moved' });
    write('splitter', { ...common, job_type: 'queue_splitter', dst_db: dst });
    write('simple', { ...common, job_type: 'simple_consumer', dst_db: dst, dst_query: 'INSERT INTO log (ev_id, ev_type, name) VALUES (:ev_extra2::bigint, :ev_type, :data.name)' });
    write('local', { ...common, job_type: 'simple_local_consumer', dst_query: `INSERT INTO local_log (ev_id, name) VALUES (:ev_extra2::bigint, :data.name || '')` });
    writeFileSync(join(work, 'handler.mjs'), `export async function handler(batch, client) {\n  for (const ev of batch.events) await client.query('INSERT INTO mod_log (ev_id, extra1) VALUES ($1, $2)', [ev.extra2, ev.extra1]);\n}\n`);
    write('module', { ...common, job_type: 'module', module: join(work, 'handler.mjs'), dst_db: dst });
    writeFileSync(join(work, 'londisted.yaml'), `jobs_dir: ${jobs.dir}\n`);
    londisted = spawnDaemon(londistedBin(), ['--config', join(work, 'londisted.yaml')]);
    await waitFor('five jobs registered', 60_000, async () => ((await count('src', `SELECT count(*)::int AS n FROM pgq.get_consumer_info('events')`)) === 5 ? true : undefined), () => londisted?.output() ?? '');
  });
  after(async () => {
    await londisted?.stop(10_000);
    await ticker?.stop();
    jobs.remove();
    rmSync(work, { recursive: true, force: true });
    await cluster?.stop();
  });

  const allThere = async (expectModule: number): Promise<void> => {
    const diag = (): string => londisted?.output().split('\n').slice(-30).join('\n') ?? '';
    await waitFor(`every job has its ${String(produced)} events`, 90_000, async () => {
      const moved = await queueRows('moved');
      const a = await queueRows('split_a');
      const b = await queueRows('split_b');
      const log = await count('dst', 'SELECT count(DISTINCT ev_id)::int AS n FROM log');
      const local = await count('src', 'SELECT count(DISTINCT ev_id)::int AS n FROM local_log');
      const mod = await count('dst', 'SELECT count(DISTINCT ev_id)::int AS n FROM mod_log');
      return moved.ids === produced && a.ids + b.ids === produced && log === produced && local === produced && mod === expectModule ? true : undefined;
    }, diag);
    // and exactly once, with the fields kept and every event where its extra1 says
    const moved = await queueRows('moved');
    assert.deepEqual(moved, { n: produced, ids: produced, bad: 0 }, 'moved queue');
    const a = await queueRows('split_a');
    assert.deepEqual(a, { n: Math.ceil(produced / 3), ids: Math.ceil(produced / 3), bad: 0 }, 'split_a: every third event');
    assert.equal((await queueRows('split_b')).n, produced - a.n);
    // their times kept: the moved events' times are the source events'
    const times = async (db: string, queue: string): Promise<string[]> => {
      const pfx = (await cluster.query<{ t: string }>(db, 'SELECT queue_data_pfx AS t FROM pgq.queue WHERE queue_name = $1', [queue]))[0]?.t ?? '';
      return (await cluster.query<{ x: string }>(db, `SELECT ev_extra2 || ' ' || ev_time::text AS x FROM ${pfx} ORDER BY ev_extra2::int`)).map((r) => r.x);
    };
    assert.deepEqual(await times('dst', 'moved'), await times('src', 'events'), 'moved events keep their time');
    assert.equal(await count('dst', 'SELECT count(*)::int AS n FROM log'), produced, 'simple_consumer: one row per event');
    assert.equal(await count('dst', `SELECT count(*)::int AS n FROM log WHERE name = 'n' || ev_id || ' x' AND ev_type = 'I:id'`), produced, 'urlencoded fields decoded');
    assert.equal(await count('src', 'SELECT count(*)::int AS n FROM local_log'), produced, 'simple_local_consumer: one row per event');
    assert.equal(await count('dst', 'SELECT count(*)::int AS n FROM mod_log'), expectModule, 'module: one row per event');
  };

  it('moves, splits and applies every event exactly once', async () => {
    await produce(300);
    await allThere(300);
  });

  it('stops a job whose file is removed and resumes it where it stopped when the file comes back (SIGHUP)', async () => {
    const moduleFile = join(jobs.dir, 'module.yaml');
    const body = { src_db: cluster.connectionString('src'), queue_name: 'events', loop_delay: '500ms', job_type: 'module', module: join(work, 'handler.mjs'), dst_db: cluster.connectionString('dst') };
    unlinkSync(moduleFile);
    londisted?.proc.kill('SIGHUP');
    await waitFor('module job stopped', 30_000, async () => (/job module removed: stopping/.test(londisted?.output() ?? '') ? true : undefined));
    await produce(60);
    await allThere(300);
    write('module', body);
    londisted?.proc.kill('SIGHUP');
    await allThere(360);
  });

  it('refuses a job file with a key its type does not use, and the other jobs run on', async () => {
    write('bad', { src_db: cluster.connectionString('src'), queue_name: 'events', job_type: 'queue_mover', dst_db: cluster.connectionString('dst'), dst_query: 'SELECT 1' });
    londisted?.proc.kill('SIGHUP');
    await waitFor('the bad job refused', 30_000, async () => (/bad\.yaml: .*dst_query is not used by job_type queue_mover \(only by simple_consumer, simple_local_consumer\); remove it; job skipped/.test(londisted?.output() ?? '') ? true : undefined), () => londisted?.output() ?? '');
    await produce(30);
    await allThere(390);
    refused(await runLondiste([join(jobs.dir, 'mover.yaml'), 'status']), 'londiste on a consumer job', /job_type queue_mover is no Londiste job: londisted runs consumer jobs/);
  });
});
