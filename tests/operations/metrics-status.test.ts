// The daemons' metrics_listen (docs/operations.md, "Metrics and status page"): pgqd and londisted
// (hosting a root and a leaf job) serve /metrics while replication runs; the counters move with
// the rows written (checked on the data of both sides too), the lag is there, no password shows,
// the listener is read-only; londisted's status page renders the cascade in headless Chromium
// (a screenshot is saved on failure); a bad address is refused in one line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSeedSchema, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { jobDir, ok, runLondiste, runScript } from '../cli/run-londiste.js';
import { londistedBin, pgqdBin, spawnDaemon, type Daemon } from '../replication/daemon-env.js';
import { tableDigest, waitFor } from '../replication/replication-env.js';
import { chromiumMissing, renderPage } from './headless-chromium.js';

const major = testVersions().at(-1) ?? 15;
const SECRET = 'Secret-pw-4711';
const TABLES = ['digoal_01.user_info', 'digoal_01.user_session'];

/** One Prometheus sample's value, or undefined: `name{labels}` exactly as written. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url, { method });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

/** The base URL a daemon logged for its listener. */
async function listenerOf(d: Daemon, name: string): Promise<string> {
  return waitFor(`${name} listening`, 30_000, async () => /metrics and status page on (http:\/\/[^ ]+\/)/.exec(d.output())?.[1], () => d.output());
}

describe(`metrics and status page, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const jobs = jobDir();
  const work = mkdtempSync(join(tmpdir(), 'skytools-metrics-'));
  const daemons: Daemon[] = [];
  let londisted: Daemon;
  let pgqd: Daemon;
  let base = '';
  let pgqdBase = '';
  // a password in every connection string: none may reach what the listener serves
  const conn = (db: string): string => `${cluster.connectionString(db)} password=${SECRET}`;

  before(async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('mroot');
    await cluster.createDatabase('mleaf');
    await cluster.withClient('mroot', (c) => createSeedSchema(c, { users: 2000 }));
    await cluster.withClient('mleaf', (c) => createSeedSchema(c, { users: 0 }));
    const root = jobs.write('mroot', { db: conn('mroot'), queue_name: 'mq', loop_delay: '200ms' });
    const leaf = jobs.write('mleaf', { db: conn('mleaf'), queue_name: 'mq', loop_delay: '200ms' });
    ok(await runLondiste([root, 'create-root', 'mroot']), 'create-root');
    ok(await runLondiste([leaf, 'create-leaf', 'mleaf', `--provider=${conn('mroot')}`]), 'create-leaf');
    ok(await runLondiste([root, 'add-table', ...TABLES]), 'root add-table');
    ok(await runLondiste([leaf, 'add-table', ...TABLES]), 'leaf add-table');
    writeFileSync(join(work, 'pgqd.yaml'), `base_connstr: "${conn('postgres').replace(/ dbname=\S+/, '')}"\ndatabase_list: [mroot, mgone]\nticker_period: 100ms\nmetrics_listen: "127.0.0.1:0"\n`);
    writeFileSync(join(work, 'londisted.yaml'), `jobs_dir: ${jobs.dir}\nmetrics_listen: "0"\n`);
    pgqd = spawnDaemon(pgqdBin(), ['--config', join(work, 'pgqd.yaml')]);
    londisted = spawnDaemon(londistedBin(), ['--config', join(work, 'londisted.yaml')]);
    daemons.push(pgqd, londisted);
    pgqdBase = await listenerOf(pgqd, 'pgqd');
    base = await listenerOf(londisted, 'londisted');
  });
  after(async () => {
    for (const d of daemons) await d.stop(10_000);
    jobs.remove();
    rmSync(work, { recursive: true, force: true });
    await cluster.stop();
  });

  const leafTablesOk = async (): Promise<true | undefined> => {
    const st = JSON.parse((await get(`${base}status.json`)).body) as { jobs: { job: string; tables: { state: string }[] }[] };
    const leaf = st.jobs.find((j) => j.job === 'mleaf');
    return leaf !== undefined && leaf.tables.length === TABLES.length && leaf.tables.every((t) => t.state === 'ok') ? true : undefined;
  };

  it('binds the loopback interface for a bare port, and counts what the jobs apply as rows are written', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await waitFor('leaf tables ok (status.json)', 120_000, leafTablesOk, () => londisted.output());
    const m1 = (await get(`${base}metrics`)).body;
    const events1 = sample(m1, 'londiste_job_events_total{job_name="mleaf"}') ?? NaN;
    assert.ok(events1 >= 0, m1);
    assert.equal(sample(m1, 'londiste_job_up{job_name="mleaf",queue="mq",node="mleaf",type="leaf"}'), 1, m1);
    assert.equal(sample(m1, 'londiste_job_tables{job_name="mleaf",state="ok"}'), 2, m1);
    assert.equal(sample(m1, 'londiste_job_copies_total{job_name="mleaf"}'), 2, m1);
    assert.equal(sample(m1, 'londiste_job_copied_rows_total{job_name="mleaf"}'), 4000, 'the copies moved 2000 users and 2000 sessions');
    assert.equal(sample(m1, 'londisted_jobs'), 2);
    const ticks1 = sample((await get(`${pgqdBase}metrics`)).body, 'pgqd_ticks_total{database="mroot"}') ?? NaN;

    await cluster.query('mroot', `INSERT INTO digoal_01.user_info (userid, engname) SELECT g, 'n' || g FROM generate_series(100001, 100500) g`);
    await cluster.query('mroot', `UPDATE digoal_01.user_session SET login_count = login_count + 1 WHERE userid <= 300`);
    await waitFor('the leaf has the new rows and the updates', 60_000, async () => {
      const r = await cluster.query<{ n: number; s: number }>('mleaf', 'SELECT (SELECT count(*)::int FROM digoal_01.user_info WHERE userid > 100000) AS n, (SELECT sum(login_count)::int FROM digoal_01.user_session) AS s');
      return r[0]?.n === 500 && r[0].s === 300 ? true : undefined;
    });
    for (const t of TABLES) {
      const a = await tableDigest(cluster, 'mroot', `SELECT * FROM ${t}`);
      assert.deepEqual(await tableDigest(cluster, 'mleaf', `SELECT * FROM ${t}`), a, `${t} on the leaf`);
    }
    const m2 = await waitFor('the events counted', 10_000, async () => {
      const text = (await get(`${base}metrics`)).body;
      return (sample(text, 'londiste_job_events_total{job_name="mleaf"}') ?? 0) >= events1 + 800 ? text : undefined;
    });
    const lag = sample(m2, 'londiste_job_lag_seconds{job_name="mleaf"}') ?? NaN;
    assert.ok(lag >= 0 && lag < 30, `lag ${String(lag)}`);
    assert.ok((sample(m2, 'londiste_job_batches_total{job_name="mleaf"}') ?? 0) > 0);
    assert.ok((sample(m2, 'londiste_job_last_tick_id{job_name="mleaf"}') ?? 0) > 0);
    assert.equal(sample(m2, 'londiste_job_errors_total{job_name="mleaf"}'), 0, londisted.output());
    const pm = (await get(`${pgqdBase}metrics`)).body;
    assert.ok((sample(pm, 'pgqd_ticks_total{database="mroot"}') ?? 0) > ticks1, pm);
    assert.ok((sample(pm, 'pgqd_ticker_runs_total{database="mroot"}') ?? 0) > 0, pm);
    assert.equal(sample(pm, 'pgqd_up{database="mroot"}'), 1, pm);
    assert.equal(sample(pm, 'pgqd_databases'), 1, pm);
    // a listed database that does not exist has a series of its own (it has no other)
    assert.equal(sample(pm, 'pgqd_database_unreachable{database="mgone"}'), 1, pm);
    assert.equal(sample(pm, 'pgqd_database_unreachable{database="mroot"}'), undefined, pm);
    assert.equal(sample(pm, 'pgqd_discovery_up'), 1, pm);
    const st = JSON.parse((await get(`${pgqdBase}status.json`)).body) as { unreachable: { name: string; error: string }[]; discoveryError: string | null };
    assert.deepEqual(st.unreachable.map((u) => u.name), ['mgone']);
    assert.match(st.unreachable[0]?.error ?? '', /database "mgone" does not exist/);
    assert.equal(st.discoveryError, null);
  });

  it('serves read-only data in the right formats, with no password or connection string', async () => {
    const metrics = await get(`${base}metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
    // every sample's family is declared, every line well formed
    for (const line of metrics.body.trim().split('\n')) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)*\})? -?[\d.e+-]+|NaN)$/, line);
    const status = await get(`${base}status.json`);
    assert.match(status.type, /^application\/json/);
    const page = await get(base);
    assert.match(page.type, /^text\/html/);
    const served: [string, string][] = [['metrics', metrics.body], ['status.json', status.body], ['page', page.body], ['pgqd metrics', (await get(`${pgqdBase}metrics`)).body], ['pgqd status', (await get(`${pgqdBase}status.json`)).body]];
    for (const [what, body] of served) {
      assert.ok(!body.includes(SECRET), `${what} shows the password`);
      assert.ok(!body.includes('host='), `${what} shows a connection string`);
    }
    assert.equal((await get(`${base}metrics`, 'POST')).status, 405);
    assert.equal((await get(`${base}nothing-here`)).status, 404);
    // a page of another site whose name was re-pointed at 127.0.0.1 (DNS rebinding) is refused
    const port = new URL(base).port;
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/status.json', headers: { Host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound, 421);
    assert.equal((await fetch(`http://localhost:${port}/metrics`)).status, 200, 'localhost is the listener too');
  });

  it('renders the cascade with lag, tables and states in headless Chromium', { skip: chromiumMissing() }, async () => {
    const dom = renderPage(base, join(tmpdir(), `londisted-status-page-${String(process.pid)}.png`), (html) => {
      // the leaf's node sits inside the root's, with its tables in sync and a lag shown
      const rootAt = html.indexOf('data-node="mroot"');
      const leafAt = html.indexOf('data-node="mleaf"');
      assert.ok(rootAt >= 0 && leafAt > rootAt, 'root, then the leaf inside it');
      const rootItem = /<li class="node" data-node="mroot"[\s\S]*<\/li>/.exec(html)?.[0] ?? '';
      assert.match(rootItem, /<ul><li class="node" data-node="mleaf" data-type="leaf"/, 'the leaf is a child of the root');
      for (const t of TABLES) assert.match(html, new RegExp(`<tr data-table="${t}" data-state="ok">`), `${t} ok on the page`);
      assert.match(html, /data-node="mleaf"[\s\S]*?<span class="lag" data-lag="[\d.]+">[\d.]+ s<\/span>/, 'the leaf lag in seconds');
      assert.match(html, /2 jobs/);
    });
    assert.ok(dom.length > 0);
  });

  it('shows a second londisted with the same jobs as a standby, not as failing', async () => {
    writeFileSync(join(work, 'second.yaml'), `jobs_dir: ${jobs.dir}\nmetrics_listen: "0"\n`);
    const second = spawnDaemon(londistedBin(), ['--config', join(work, 'second.yaml')]);
    daemons.push(second);
    const url = await listenerOf(second, 'second londisted');
    const m = await waitFor('both jobs standing by', 30_000, async () => {
      const text = (await get(`${url}metrics`)).body;
      return sample(text, 'londiste_job_standby{job_name="mleaf"}') === 1 && sample(text, 'londiste_job_standby{job_name="mroot"}') === 1 ? text : undefined;
    }, () => second.output());
    assert.equal(sample(m, 'londiste_job_errors_total{job_name="mleaf"}'), 0, m);
    assert.equal(sample(m, 'londiste_job_restarts_total{job_name="mleaf"}'), 0, m);
    assert.equal(sample(m, 'londiste_job_up{job_name="mleaf",queue="",node="",type=""}'), 0, m);
    assert.equal((await second.stop()).code, 0, second.output());
    // the first one kept working all along
    assert.equal(sample((await get(`${base}metrics`)).body, 'londiste_job_standby{job_name="mleaf"}'), 0);
  });

  it('refuses a metrics_listen that is no address, in one line, before starting anything', async () => {
    writeFileSync(join(work, 'bad.yaml'), `jobs_dir: ${jobs.dir}\nmetrics_listen: "localhost:99999"\n`);
    const r = await runScript(londistedBin(), ['--config', join(work, 'bad.yaml')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim(), /^ERROR .*metrics_listen: "localhost:99999" is not an address to listen on: write PORT, HOST:PORT or \[IPv6\]:PORT/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
