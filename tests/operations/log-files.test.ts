// Log files of the daemons (docs/operations.md, "Logs"): SIGHUP opens the log file again at its
// configured path, as logrotate's postrotate needs (the renamed file gets no new lines, a new file at
// the path gets them); log_format json writes one JSON object per line with time, pid, level, job (on
// every line of a job inside londisted) and message; a bad log_format or a log file that cannot be
// opened is refused with one error line and exit 1.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installSchemas } from '@skytools/core';
import { startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { londisteBin, ok, refused, runLondiste, runScript } from '../cli/run-londiste.js';
import { londistedBin, pgqdBin, readTextFile, spawnDaemon, type Daemon } from '../replication/daemon-env.js';
import { waitFor } from '../replication/replication-env.js';

const major = testVersions().at(-1) ?? 15;

interface JsonLine {
  time: string;
  pid: number;
  level: string;
  job?: string;
  message: string;
}

function jsonLines(text: string): JsonLine[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const v = JSON.parse(l) as JsonLine;
      return v;
    });
}

describe(`log files: reopen on SIGHUP, log_format, PostgreSQL ${major}`, () => {
  let cluster: PgCluster;
  const dir = mkdtempSync(join(tmpdir(), 'skytools-logs-'));
  const daemons: Daemon[] = [];
  const start = (script: string, args: string[]): Daemon => {
    const d = spawnDaemon(script, args);
    daemons.push(d);
    return d;
  };

  before(async () => {
    cluster = await startCluster(major);
  });
  after(async () => {
    for (const d of daemons) await d.stop(5000);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pgqd: after the file is renamed and SIGHUP, new lines go to a new file at the configured path', async () => {
    await cluster.createDatabase('logs_pgqd');
    await cluster.withClient('logs_pgqd', async (c) => {
      await installSchemas(c, ['pgq']);
      await c.query(`SELECT pgq.create_queue('q')`);
    });
    const log = join(dir, 'pgqd.log');
    const config = join(dir, 'pgqd.yaml');
    writeFileSync(config, `base_connstr: "host=127.0.0.1 port=${cluster.port} user=${cluster.user}"\ninitial_database: postgres\ndatabase_list: [logs_pgqd]\nstats_period: 200ms\nlogfile: ${JSON.stringify(log)}\n`);
    const d = start(pgqdBin(), ['--config', config]);
    const diag = (): string => `log:\n${readTextFile(log)}\nrotated:\n${readTextFile(`${log}.1`)}\noutput:\n${d.output()}`;
    await waitFor('pgqd serving', 30_000, async () => (/logs_pgqd: serving/.test(readTextFile(log)) ? true : undefined), diag);
    // what logrotate does: rename, then the postrotate signal
    renameSync(log, `${log}.1`);
    d.proc.kill('SIGHUP');
    await waitFor('a new log file', 30_000, async () => (/SIGHUP: reloading .* \(log file reopened\)/.test(readTextFile(log)) ? true : undefined), diag);
    await waitFor('stats lines in the new file', 30_000, async () => (/\{ticks: \d+/.test(readTextFile(log)) ? true : undefined), diag);
    const rotatedBefore = readTextFile(`${log}.1`);
    assert.equal((await d.stop()).code, 0, diag());
    assert.match(readTextFile(log), /pgqd stopped/, diag());
    assert.equal(readTextFile(`${log}.1`), rotatedBefore, 'the renamed file gets nothing after the reopen');
    assert.doesNotMatch(rotatedBefore, /SIGHUP/, diag());
    assert.match(rotatedBefore, /logs_pgqd: serving/);
  });

  it('londisted, log_format json: one object per line, the job name on every line of the job; reopen keeps the format', async () => {
    await cluster.createDatabase('logs_root');
    const jobs = join(dir, 'jobs.d');
    mkdirSync(jobs);
    const jobBody = `job_name: logs_root\ndb: ${JSON.stringify(cluster.connectionString('logs_root'))}\nqueue_name: lq\n`;
    const spare = join(dir, 'logs_root.yaml');
    writeFileSync(spare, jobBody);
    ok(await runLondiste([spare, 'create-root', 'logs_root', cluster.connectionString('logs_root')]), 'create-root');
    // a job that cannot connect: its failures are lines of the job too
    writeFileSync(join(jobs, 'logs_nowhere.yaml'), `job_name: logs_nowhere\ndb: "host=127.0.0.1 port=1 user=nobody dbname=nowhere"\nqueue_name: lq\n`);
    writeFileSync(join(jobs, 'logs_root.yaml'), jobBody);
    const log = join(dir, 'londisted.log');
    const config = join(dir, 'londisted.yaml');
    writeFileSync(config, `jobs_dir: jobs.d\nlogfile: ${JSON.stringify(log)}\nlog_format: json\nloglevel: debug\n`);
    const d = start(londistedBin(), ['--config', config]);
    const diag = (): string => `log:\n${readTextFile(log)}\noutput:\n${d.output()}`;
    await waitFor('lines of both jobs', 30_000, async () => {
      const lines = jsonLines(readTextFile(log));
      return lines.some((l) => l.job === 'logs_root') && lines.some((l) => l.job === 'logs_nowhere' && /cannot run/.test(l.message)) ? true : undefined;
    }, diag);
    renameSync(log, `${log}.1`);
    d.proc.kill('SIGHUP');
    await waitFor('the reopened file', 30_000, async () => (/SIGHUP: reloading/.test(readTextFile(log)) ? true : undefined), diag);
    assert.equal((await d.stop()).code, 0, diag());

    const all = [...jsonLines(readTextFile(`${log}.1`)), ...jsonLines(readTextFile(log))];
    for (const l of all) {
      assert.deepEqual(Object.keys(l).filter((k) => k !== 'job'), ['time', 'pid', 'level', 'message'], JSON.stringify(l));
      assert.ok(!Number.isNaN(Date.parse(l.time)) && l.time.endsWith('Z'), `ISO time: ${l.time}`);
      assert.equal(l.pid, d.pid);
      assert.ok(['debug', 'info', 'warning', 'error'].includes(l.level), l.level);
      assert.equal(typeof l.message, 'string');
    }
    // the supervisor's own lines carry no job; the jobs' lines name theirs and not again in the message
    assert.ok(all.some((l) => l.job === undefined && /^job logs_root started/.test(l.message)), diag());
    const rootLines = all.filter((l) => l.job === 'logs_root');
    assert.ok(rootLines.length > 0 && rootLines.every((l) => !l.message.startsWith('logs_root: ')), diag());
    const failures = all.filter((l) => /cannot run/.test(l.message));
    assert.ok(failures.length > 0 && failures.every((l) => l.job === 'logs_nowhere' && l.level === 'error'), diag());
    assert.ok(all.some((l) => l.job === undefined && l.message === 'londisted stopped'), diag());
  });

  it('londiste JOB worker: SIGHUP opens the job\'s logfile again', async () => {
    await cluster.createDatabase('logs_worker');
    const log = join(dir, 'worker.log');
    const job = join(dir, 'logs_worker.yaml');
    const pidfile = join(dir, 'worker.pid');
    writeFileSync(job, `job_name: logs_worker\ndb: ${JSON.stringify(cluster.connectionString('logs_worker'))}\nqueue_name: wq\nlogfile: ${JSON.stringify(log)}\npidfile: ${JSON.stringify(pidfile)}\n`);
    ok(await runLondiste([job, 'create-root', 'logs_worker', cluster.connectionString('logs_worker')]), 'create-root');
    const d = start(londisteBin(), [job, 'worker']);
    const diag = (): string => `log:\n${readTextFile(log)}\nrotated:\n${readTextFile(`${log}.1`)}\noutput:\n${d.output()}`;
    // the pidfile is claimed when the worker takes over SIGHUP
    await waitFor('the worker running', 30_000, async () => (readTextFile(pidfile).trim() === String(d.pid) ? true : undefined), diag);
    renameSync(log, `${log}.1`);
    d.proc.kill('SIGHUP');
    await waitFor('the reopened file', 30_000, async () => (/reload: the job file is unchanged/.test(readTextFile(log)) ? true : undefined), diag);
    assert.equal((await d.stop()).code, 0, diag());
    assert.doesNotMatch(readTextFile(`${log}.1`), /reload:/, diag());
  });

  it('a bad log_format, or a log file that cannot be opened, is refused with one error line', async () => {
    const jobs = join(dir, 'empty.d');
    mkdirSync(jobs);
    const cases: [string, string, string, RegExp][] = [
      ['pgqd', pgqdBin(), 'log_format: xml\n', /pgqd-bad\.yaml: key "log_format" must be one of text, json \(got "xml"\)/],
      ['londisted', londistedBin(), `jobs_dir: ${JSON.stringify(jobs)}\nlog_format: JSON\n`, /londisted-bad\.yaml: key "log_format" must be one of text, json \(got "JSON"\)/],
      ['londisted', londistedBin(), `jobs_dir: ${JSON.stringify(jobs)}\nlogfile: ${JSON.stringify(join(dir, 'no-such-dir', 'x.log'))}\n`, /cannot open log file .*no-such-dir\/x\.log: ENOENT/],
    ];
    for (const [name, bin, body, re] of cases) {
      const config = join(dir, `${name}-bad.yaml`);
      writeFileSync(config, body);
      refused(await runScript(bin, ['--config', config]), `${name} ${body.trim()}`, re);
    }
    assert.ok(!existsSync(join(dir, 'no-such-dir')));
  });
});
