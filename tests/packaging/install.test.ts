// `make install` (docs/operations.md, "Install"): launchers on PREFIX/bin that run from anywhere with a
// bare PATH, the SQL under PREFIX/share/skytools-ts/schema (what the installed londiste installs into a
// real database), systemd units naming the installed paths (checked by systemd-analyze verify where it
// exists), example config under SYSCONFDIR that the daemons' loaders accept and a second install never
// overwrites, DESTDIR staging, and `make uninstall`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SKYTOOLS_TS_VERSION } from '@skytools/core';
import { shippedVersion } from '@skytools/core/internal';
import { loadJobConfig, loadSupervisorConfig, SUPERVISOR_SPEC } from '@skytools/londiste';
import { loadPgqdConfig } from '@skytools/pgqd';
import { repoRoot, startCluster, testVersions, type PgCluster } from '@skytools/harness';
import { made, runMake, systemdAnalyzeMissing } from './run-make.js';

const major = testVersions().at(-1) ?? 15;
const PROGRAMS = ['pgqd', 'londisted', 'londiste', 'pgq'] as const;
const UNITS = ['pgqd.service', 'londisted.service', 'londiste-worker@.service'] as const;
// no node on it: the launchers must name their node in full, as under systemd's short PATH
const BARE_ENV = { PATH: '/usr/bin:/bin', HOME: tmpdir() };

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

describe('make install', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'skytools-install-'));
  const etc = join(prefix, 'etc');
  const vars = { PREFIX: prefix, SYSCONFDIR: etc };
  const bin = (p: string): string => join(prefix, 'bin', p);
  let cluster: PgCluster | undefined;
  let firstInstall = '';

  before(() => {
    firstInstall = made(runMake('install', vars), 'make install').stdout;
  });
  after(async () => {
    await cluster?.stop();
    rmSync(prefix, { recursive: true, force: true });
  });

  it('puts pgqd, londisted, londiste and pgq on PREFIX/bin; each prints the version from anywhere, with a bare PATH', () => {
    for (const p of PROGRAMS) {
      assert.ok((statSync(bin(p)).mode & 0o111) !== 0, `${p} is executable`);
      const r = spawnSync(bin(p), ['--version'], { cwd: tmpdir(), env: BARE_ENV, encoding: 'utf8' });
      assert.equal(r.status, 0, `${p} --version: ${r.stderr}`);
      assert.equal(r.stdout.trim(), SKYTOOLS_TS_VERSION, `${p} --version`);
    }
    // the installed copy runs, not the repository's
    assert.match(readFileSync(bin('pgqd'), 'utf8'), new RegExp(`${prefix}/lib/skytools-ts/node_modules/@skytools/pgqd/dist/bin/pgqd\\.js`));
    assert.ok(!readFileSync(bin('londiste'), 'utf8').includes(repoRoot()), 'no path into the repository');
    assert.match(firstInstall, /production dependencies/);
  });

  it('puts the SQL under PREFIX/share/skytools-ts/schema, file for file as in schema/', () => {
    const shipped = join(repoRoot(), 'schema');
    const installed = join(prefix, 'share', 'skytools-ts', 'schema');
    const files = tree(shipped);
    assert.deepEqual(tree(installed), files);
    for (const f of files) assert.equal(readFileSync(join(installed, f), 'utf8'), readFileSync(join(shipped, f), 'utf8'), f);
    for (const s of ['pgq', 'pgq_ext', 'pgq_node', 'londiste']) assert.ok(files.includes(join(s, 'install.sql')), `${s}/install.sql`);
  });

  it('the installed londiste installs the schemas from there into a real database', async () => {
    cluster = await startCluster(major);
    await cluster.createDatabase('installed_root');
    const job = join(prefix, 'installed_root.yaml');
    writeFileSync(job, `job_name: installed_root\ndb: ${JSON.stringify(cluster.connectionString('installed_root'))}\nqueue_name: iq\n`);
    const r = spawnSync(bin('londiste'), [job, 'create-root', 'installed_root', cluster.connectionString('installed_root')], { cwd: tmpdir(), env: BARE_ENV, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const v = await cluster.query<{ pgq: string; node: string; londiste: string }>('installed_root', 'SELECT pgq.version() AS pgq, pgq_node.version() AS node, londiste.version() AS londiste');
    assert.deepEqual(v[0], { pgq: shippedVersion('pgq'), node: shippedVersion('pgq_node'), londiste: shippedVersion('londiste') });
    const nodes = await cluster.query<{ node_type: string }>('installed_root', `SELECT node_type FROM pgq_node.get_node_info('iq')`);
    assert.equal(nodes[0]?.node_type, 'root');
  });

  it('puts example config under SYSCONFDIR (0640) that the daemons accept; example jobs do not run by themselves', async () => {
    for (const f of ['pgqd.yaml', 'londisted.yaml']) assert.equal(statSync(join(etc, f)).mode & 0o777, 0o640, f);
    assert.equal(loadPgqdConfig(join(etc, 'pgqd.yaml')).log_format, 'text');
    const supervisor = loadSupervisorConfig(join(etc, 'londisted.yaml'));
    assert.equal(supervisor.jobs_dir, join(etc, 'jobs.d'));
    const examples = readdirSync(join(etc, 'jobs.d')).sort();
    assert.deepEqual(examples, readdirSync(join(repoRoot(), 'config', 'jobs.d')).filter((f) => f.endsWith('.yaml')).map((f) => `${f}.example`).sort());
    for (const f of examples) assert.ok(loadJobConfig(join(etc, 'jobs.d', f)).job_name !== '', f);
    // the installed londisted on the installed config: starts with no job, stops cleanly
    const d = spawn(bin('londisted'), ['--config', join(etc, 'londisted.yaml')], { cwd: tmpdir(), env: BARE_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    d.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => d.on('exit', (code) => r(code)));
    for (let i = 0; i < 200 && !/starting, jobs from/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(err, new RegExp(`starting, jobs from ${etc}/jobs\\.d`));
    d.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.doesNotMatch(err, /job \S+ started/, 'the .example files are not jobs');
  });

  it('installs the systemd units with the installed paths, and the sysusers file', () => {
    const unitDir = join(prefix, 'lib', 'systemd', 'system');
    const text = (u: string): string => readFileSync(join(unitDir, u), 'utf8');
    assert.match(text('pgqd.service'), new RegExp(`^ExecStart=${bin('pgqd')} --config ${etc}/pgqd\\.yaml$`, 'm'));
    assert.match(text('londisted.service'), new RegExp(`^ExecStart=${bin('londisted')} --config ${etc}/londisted\\.yaml$`, 'm'));
    assert.match(text('londiste-worker@.service'), new RegExp(`^ExecStart=${bin('londiste')} ${etc}/worker\\.d/%i\\.yaml worker$`, 'm'));
    for (const u of UNITS) assert.doesNotMatch(text(u), /\/usr\/local|\/etc\/skytools/, `${u}: every default path replaced`);
    assert.ok(statSync(join(etc, 'worker.d')).isDirectory());
    assert.match(readFileSync(join(prefix, 'lib', 'sysusers.d', 'skytools.conf'), 'utf8'), /^u skytools /m);
    // londisted must get shutdown_timeout to let batches commit before systemd's SIGKILL
    const stopSec = Number(/^TimeoutStopSec=(\d+)s$/m.exec(text('londisted.service'))?.[1]);
    assert.ok(stopSec * 1000 > Number(loadSupervisorConfig(join(etc, 'londisted.yaml')).shutdown_timeout), `TimeoutStopSec=${stopSec}s`);
    assert.equal(SUPERVISOR_SPEC.shutdown_timeout.default, '30s', 'the units were written for a 30s shutdown_timeout');
  });

  it('the installed units pass systemd-analyze verify', { skip: systemdAnalyzeMissing() }, () => {
    const unitDir = join(prefix, 'lib', 'systemd', 'system');
    const r = spawnSync('systemd-analyze', ['verify', ...UNITS.map((u) => join(unitDir, u))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // unknown or misspelt settings are only warnings: there must be none
    assert.equal(r.stderr.trim(), '', r.stderr);
  });

  it('a second install keeps modified config files and replaces the program files', () => {
    const pgqdYaml = join(etc, 'pgqd.yaml');
    const example = join(etc, 'jobs.d', 'src_digoal_01.yaml.example');
    appendFileSync(pgqdYaml, '# edited here\nticker_period: 1s\n');
    writeFileSync(example, 'job_name: mine\n');
    rmSync(join(etc, 'londisted.yaml'));
    const before = { pgqd: readFileSync(pgqdYaml, 'utf8'), example: readFileSync(example, 'utf8') };
    const stale = join(prefix, 'lib', 'skytools-ts', 'node_modules', '@skytools', 'core', 'dist', 'stale-from-an-older-version.js');
    writeFileSync(stale, '');
    const out = made(runMake('install', vars), 'second make install').stdout;
    assert.equal(readFileSync(pgqdYaml, 'utf8'), before.pgqd);
    assert.equal(readFileSync(example, 'utf8'), before.example);
    assert.match(out, new RegExp(`kept ${pgqdYaml} `));
    assert.ok(existsSync(join(etc, 'londisted.yaml')), 'a missing config file is installed again');
    assert.ok(!existsSync(stale), 'the library is replaced as a whole');
    assert.equal(spawnSync(bin('pgqd'), ['--version'], { encoding: 'utf8', env: BARE_ENV }).stdout.trim(), SKYTOOLS_TS_VERSION);
  });

  it('DESTDIR stages the same tree without writing DESTDIR into any file', () => {
    const stage = mkdtempSync(join(tmpdir(), 'skytools-destdir-'));
    try {
      made(runMake('install', { DESTDIR: stage, PREFIX: '/opt/skytools', SYSCONFDIR: '/etc/skytools' }), 'make install DESTDIR=');
      const launcher = readFileSync(join(stage, 'opt', 'skytools', 'bin', 'londisted'), 'utf8');
      assert.match(launcher, /'\/opt\/skytools\/lib\/skytools-ts\/node_modules\/@skytools\/londiste\/dist\/bin\/londisted\.js'/);
      assert.ok(!launcher.includes(stage));
      assert.match(readFileSync(join(stage, 'opt', 'skytools', 'lib', 'systemd', 'system', 'londisted.service'), 'utf8'), /^ExecStart=\/opt\/skytools\/bin\/londisted --config \/etc\/skytools\/londisted\.yaml$/m);
      assert.ok(existsSync(join(stage, 'etc', 'skytools', 'pgqd.yaml')));
      assert.ok(existsSync(join(stage, 'opt', 'skytools', 'share', 'skytools-ts', 'schema', 'pgq', 'install.sql')));
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });

  it('make uninstall removes the programs, library, SQL and units, and keeps the configuration', () => {
    made(runMake('uninstall', vars), 'make uninstall');
    for (const p of PROGRAMS) assert.ok(!existsSync(bin(p)), p);
    for (const d of [join('lib', 'skytools-ts'), join('share', 'skytools-ts'), join('share', 'doc', 'skytools-ts')]) assert.ok(!existsSync(join(prefix, d)), d);
    for (const u of UNITS) assert.ok(!existsSync(join(prefix, 'lib', 'systemd', 'system', u)), u);
    assert.ok(existsSync(join(etc, 'pgqd.yaml')) && existsSync(join(etc, 'londisted.yaml')));
  });
});
