// The daemons under a systemd unit of Type=notify (docs/operations.md, "Services"): pgqd, londisted
// (an empty jobs_dir) and `londiste JOB worker` run with a NOTIFY_SOCKET of the test's own and must say
// READY=1 once serving, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 on SIGTERM, and send
// WATCHDOG=1 pings when WATCHDOG_USEC asks for them; without systemd-notify on PATH they keep running and
// log why systemd hears nothing. pgqd's READY=1 is followed by real ticks in a real database.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas } from '@skytools/core';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { londisteBin, ok, runLondiste } from '../cli/run-londiste.js';
import { londistedBin, pgqdBin, readTextFile, type Daemon } from '../replication/daemon-env.js';
import { waitFor } from '../replication/replication-env.js';
import { NotifyListener, notifyToolsMissing } from './notify-listener.js';
import { spawnWithEnv } from './spawn-with-env.js';

const major = testVersions().at(-1) ?? 15;
const missing = notifyToolsMissing();
if (missing !== undefined) process.stdout.write(`# service notification tests skipped: ${missing}\n`);

/** Run a built binary with this NOTIFY_SOCKET (and more environment), its output captured. */
function spawnNotified(script: string, args: readonly string[], socket: string, env: NodeJS.ProcessEnv = {}): Daemon {
  return spawnWithEnv(script, args, { NOTIFY_SOCKET: socket, ...env });
}

/** READY=1 first; SIGHUP: RELOADING=1 (with MONOTONIC_USEC) and READY=1; SIGTERM: STOPPING=1 and exit 0. */
async function lifecycle(name: string, d: Daemon, listener: NotifyListener, afterReady?: () => Promise<void>): Promise<void> {
  const diag = (): string => `${name} notifications: ${JSON.stringify(listener.messages)}\noutput:\n${d.output()}`;
  await waitFor(`${name}: READY=1`, 30_000, async () => (listener.transitions().includes('READY=1') ? true : undefined), diag);
  assert.deepEqual(listener.transitions(), ['READY=1'], diag());
  await afterReady?.();
  d.proc.kill('SIGHUP');
  await waitFor(`${name}: READY=1 after the reload`, 30_000, async () => (listener.transitions().length >= 3 ? true : undefined), diag);
  assert.deepEqual(listener.transitions(), ['READY=1', 'RELOADING=1', 'READY=1'], diag());
  const reloading = listener.messages.find((m) => m.startsWith('RELOADING=1')) ?? '';
  assert.match(reloading, /^RELOADING=1\nMONOTONIC_USEC=\d+$/, 'RELOADING=1 carries the monotonic time Type=notify-reload wants');
  const exit = await d.stop();
  assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, diag());
  assert.deepEqual(listener.transitions(), ['READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1'], diag());
}

describe(`systemd notification (Type=notify), PostgreSQL ${major}`, { skip: missing }, () => {
  let cluster: PgCluster;
  const dir = mkdtempSync(join(tmpdir(), 'skytools-notify-'));
  const daemons: Daemon[] = [];
  const listeners: NotifyListener[] = [];
  const listen = async (name: string): Promise<NotifyListener> => {
    const l = await NotifyListener.start(dir, name);
    listeners.push(l);
    return l;
  };

  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    for (const d of daemons) await d.stop(5000);
    for (const l of listeners) await l.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pgqd: READY=1 once ticking, RELOADING=1/READY=1 on SIGHUP, STOPPING=1 on SIGTERM, watchdog pings', async () => {
    await cluster.createDatabase('notify_pgqd');
    await cluster.withClient('notify_pgqd', async (c) => {
      await installSchemas(c, ['pgq']);
      await c.query(`SELECT pgq.create_queue('q')`);
      await c.query(`UPDATE pgq.queue SET queue_ticker_max_lag = '0', queue_ticker_idle_period = '0'`);
    });
    const config = join(dir, 'pgqd.yaml');
    writeFileSync(config, `base_connstr: "host=127.0.0.1 port=${cluster.port} user=${cluster.user}"\ninitial_database: postgres\ndatabase_list: [notify_pgqd]\nticker_period: 100ms\n`);
    const listener = await listen('pgqd');
    // 400 ms: a ping every 200 ms
    const d = spawnNotified(pgqdBin(), ['--config', config], listener.path, { WATCHDOG_USEC: '400000' });
    daemons.push(d);
    const ticks = async (): Promise<number> => (await cluster.query<{ t: number }>('notify_pgqd', `SELECT pgq.seq_getval(queue_tick_seq)::int AS t FROM pgq.queue`))[0]?.t ?? 0;
    await lifecycle('pgqd', d, listener, async () => {
      const first = await ticks();
      await waitFor('pgqd ticking after READY=1', 30_000, async () => ((await ticks()) > first + 2 ? true : undefined), d.output);
      await waitFor('watchdog pings', 10_000, async () => (listener.states().filter((s) => s === 'WATCHDOG=1').length >= 2 ? true : undefined), d.output);
    });
  });

  it('londisted with an empty jobs_dir: READY=1, RELOADING=1/READY=1, STOPPING=1; no pings unless WATCHDOG_USEC asks', async () => {
    const jobs = join(dir, 'empty-jobs.d');
    mkdirSync(jobs);
    const config = join(dir, 'londisted.yaml');
    writeFileSync(config, `jobs_dir: ${JSON.stringify(jobs)}\n`);
    const listener = await listen('londisted');
    const d = spawnNotified(londistedBin(), ['--config', config], listener.path);
    daemons.push(d);
    await lifecycle('londisted', d, listener);
    assert.ok(!listener.states().includes('WATCHDOG=1'), 'no WATCHDOG_USEC, no pings');
  });

  it('a watchdog meant for another process (WATCHDOG_PID) is left alone', async () => {
    const jobs = join(dir, 'empty-jobs-2.d');
    mkdirSync(jobs);
    const config = join(dir, 'londisted-2.yaml');
    writeFileSync(config, `jobs_dir: ${JSON.stringify(jobs)}\n`);
    const listener = await listen('londisted-2');
    const d = spawnNotified(londistedBin(), ['--config', config], listener.path, { WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' });
    daemons.push(d);
    await waitFor('READY=1', 30_000, async () => (listener.transitions().includes('READY=1') ? true : undefined), d.output);
    // a few intervals' worth of pings would have arrived by now
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(listener.states(), ['READY=1']);
    assert.equal((await d.stop()).code, 0);
  });

  it('londiste JOB worker (londiste-worker@.service): READY=1, RELOADING=1/READY=1, STOPPING=1', async () => {
    await cluster.createDatabase('notify_root');
    const job = join(dir, 'notify_root.yaml');
    writeFileSync(job, `job_name: notify_root\ndb: ${JSON.stringify(cluster.connectionString('notify_root'))}\nqueue_name: nq\nlogfile: ${JSON.stringify(join(dir, 'notify_root.log'))}\n`);
    ok(await runLondiste([job, 'create-root', 'notify_root', cluster.connectionString('notify_root')]), 'create-root');
    const listener = await listen('worker');
    const d = spawnNotified(londisteBin(), [job, 'worker'], listener.path);
    daemons.push(d);
    await lifecycle('worker', d, listener);
    assert.match(readTextFile(join(dir, 'notify_root.log')), /reload: the job file is unchanged/, 'the SIGHUP reached the worker');
  });

  it('without systemd-notify on PATH: the daemon serves on and logs once why systemd hears nothing', async () => {
    const jobs = join(dir, 'empty-jobs-3.d');
    mkdirSync(jobs);
    const config = join(dir, 'londisted-3.yaml');
    writeFileSync(config, `jobs_dir: ${JSON.stringify(jobs)}\n`);
    const listener = await listen('no-tool');
    const d = spawnNotified(londistedBin(), ['--config', config], listener.path, { PATH: join(dir, 'no-such-bin') });
    daemons.push(d);
    await waitFor('the warning', 30_000, async () => (/cannot tell systemd READY=1 through systemd-notify/.test(d.output()) ? true : undefined), d.output);
    d.proc.kill('SIGHUP');
    await waitFor('the reload', 30_000, async () => (/SIGHUP: reloading/.test(d.output()) ? true : undefined), d.output);
    assert.ok(d.running(), d.output());
    assert.equal((await d.stop()).code, 0, d.output());
    assert.equal(d.output().match(/WARNING cannot tell systemd/g)?.length, 1, `one warning, not one per message:\n${d.output()}`);
    assert.deepEqual(listener.messages, []);
  });
});
