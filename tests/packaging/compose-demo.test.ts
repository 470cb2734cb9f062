// The compose demo without Docker (docker/compose.yaml): the image's file tree made as docker/Dockerfile
// makes it (`make install` plus the Dockerfile's `cp` lines), the demo's config (docker/demo) with the
// service names pointed at real PostgreSQL 13 and 17 servers; then what the services do: the seed (twice:
// the second run must do nothing), pgqd for each server, londisted on the mounted config, the healthchecks'
// own commands, the load; every table of both subscribers must equal the source (rows and checksums).
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { clientBinDir, repoRoot, startCluster, type PgCluster } from '@skytools/harness';
import { readTextFile, spawnProgram, type Daemon } from '../replication/daemon-env.js';
import { tableDigest, waitCaughtUp, waitTablesOk } from '../replication/replication-env.js';
import { made, runMake } from './run-make.js';

const USERS = 3000;
const TABLES = ['user_info', 'user_session', 'user_login_rec', 'user_logout_rec'] as const;

/** A TCP port of the loopback interface that nothing listens on just now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the compose demo on real servers, from the image tree (PostgreSQL 13 -> 17)', () => {
  const work = mkdtempSync(join(tmpdir(), 'skytools-compose-'));
  const prefix = join(work, 'usr-local');
  const etc = join(work, 'etc-skytools');
  const run = join(work, 'run-skytools');
  const daemons: Daemon[] = [];
  let src: PgCluster;
  let dst: PgCluster;
  const compose = YAML.parse(readFileSync(join(repoRoot(), 'docker', 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { healthcheck?: { test: string[] }; environment?: Record<string, string> }> };
  // the services' names and paths, as this test's servers and directories
  // londisted's metrics port inside its container; here a free one of this machine's loopback
  let metricsPort = 0;
  const local = (text: string): string =>
    text
      .replaceAll('0.0.0.0:9187', `127.0.0.1:${String(metricsPort)}`)
      .replaceAll('127.0.0.1:9187', `127.0.0.1:${String(metricsPort)}`)
      .replaceAll('host=source port=5432', `host=127.0.0.1 port=${src.port}`)
      .replaceAll('host=target port=5432', `host=127.0.0.1 port=${dst.port}`)
      .replaceAll('/run/skytools/', `${run}/`)
      .replaceAll('/etc/skytools/', `${etc}/`);
  const env = (): NodeJS.ProcessEnv => ({ PATH: `${join(prefix, 'bin')}:/usr/bin:/bin`, HOME: work });
  const diag = (): string => daemons.map((d) => d.output().split('\n').slice(-15).join('\n')).join('\n----\n');

  before(async () => {
    [src, dst] = await Promise.all([startCluster(13), startCluster(17)]);
    metricsPort = await freePort();
    made(runMake('install', { PREFIX: prefix, SYSCONFDIR: join(work, 'etc-installed') }), 'make install');
    // the Dockerfile's own copies into the image's /usr/local
    const dockerfile = readFileSync(join(repoRoot(), 'docker', 'Dockerfile'), 'utf8');
    const copies = [...dockerfile.matchAll(/cp (\S+) \/staging\/usr\/local\/(\S+)/g)];
    assert.ok(copies.length >= 2, 'the Dockerfile copies the seed into the image');
    for (const m of copies) cpSync(join(repoRoot(), m[1] ?? ''), join(prefix, m[2] ?? ''));
    mkdirSync(run);
    // the demo config, mounted at /etc/skytools in every skytools service
    cpSync(join(repoRoot(), 'docker', 'demo'), etc, { recursive: true });
    for (const f of ['londisted.yaml', 'pgqd-source.yaml', 'pgqd-target.yaml', ...readdirSync(join(etc, 'jobs.d')).map((j) => join('jobs.d', j))]) {
      writeFileSync(join(etc, f), local(readFileSync(join(etc, f), 'utf8')));
    }
  });
  after(async () => {
    for (const d of daemons) await d.stop(10_000);
    await Promise.all([src?.stop(), dst?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  const seed = (): { status: number | null; out: string } => {
    const r = spawnSync(process.execPath, [join(prefix, 'lib', 'skytools-ts', 'demo', 'seed.mjs')], {
      encoding: 'utf8',
      cwd: work,
      env: { ...env(), SKYTOOLS_CONFIG_DIR: etc, DEMO_USERS: String(USERS), SOURCE_HOST: '127.0.0.1', SOURCE_PORT: String(src.port), TARGET_HOST: '127.0.0.1', TARGET_PORT: String(dst.port) },
      timeout: 300_000,
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const healthy = (service: string): boolean => {
    const test = compose.services[service]?.healthcheck?.test ?? [];
    // the image's node is this test's node
    if (test[0] === 'CMD') return spawnSync(test[1] === 'node' ? process.execPath : (test[1] ?? ''), test.slice(2).map(local), { env: env() }).status === 0;
    assert.equal(test[0], 'CMD-SHELL');
    // compose's $$ is a literal $
    return spawnSync('sh', ['-c', local(test[1] ?? '').replaceAll('$$', '$')], { env: env() }).status === 0;
  };

  it('the seed makes the nodes and tables; run again, it does nothing', async () => {
    const first = seed();
    assert.equal(first.status, 0, first.out);
    assert.match(first.out, /seeded: londisted copies the tables now/);
    const again = seed();
    assert.equal(again.status, 0, again.out);
    assert.match(again.out, /nothing to seed/);
    const nodes = await dst.query<{ n: string; t: string }>('digoal_02', `SELECT node_name AS n, node_type AS t FROM pgq_node.get_node_info('replika')`);
    assert.deepEqual(nodes[0], { n: 'dst2_digoal_02', t: 'leaf' });
  });

  it('pgqd and londisted on the demo config replicate every table; their healthchecks pass; the load arrives', async () => {
    assert.ok(!healthy('londisted'), 'not healthy before it runs');
    for (const [args, service] of [[['pgqd', '--config', `${etc}/pgqd-source.yaml`], 'pgqd-source'], [['pgqd', '--config', `${etc}/pgqd-target.yaml`], 'pgqd-target']] as const) {
      // one pidfile name per container in compose; one directory here: give each pgqd its own
      const config = join(etc, `${service}.yaml`);
      writeFileSync(config, readFileSync(config, 'utf8').replace(`${run}/pgqd.pid`, `${run}/${service}.pid`));
      daemons.push(spawnProgram(join(prefix, 'bin', args[0]), args.slice(1)));
    }
    // the image's default command
    daemons.push(spawnProgram(join(prefix, 'bin', 'londisted'), ['--config', `${etc}/londisted.yaml`]));
    await waitTablesOk(dst, 'digoal_01', 4, diag, 'replika', 120_000);
    await waitTablesOk(dst, 'digoal_02', 2, diag, 'replika', 120_000);
    assert.ok(healthy('londisted'), `londisted healthcheck\n${diag()}`);
    assert.equal(spawnSync('sh', ['-c', `test -s ${run}/pgqd-source.pid && kill -0 "$(cat ${run}/pgqd-source.pid)"`]).status, 0);

    // the load service, shortened
    const script = join(etc, 'login_logout.sql');
    const r = spawnSync(join(clientBinDir(), 'pgbench'), ['-n', '-c', '2', '-j', '1', '-T', '3', '-M', 'prepared', '-f', script, '-h', '127.0.0.1', '-p', String(src.port), '-U', src.user, 'digoal_01'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await waitCaughtUp(src, 'digoal_01', dst, 'digoal_01', 'replika', 'dst1_digoal_01', 120_000, diag);
    await waitCaughtUp(src, 'digoal_01', dst, 'digoal_02', 'replika', 'dst2_digoal_02', 120_000, diag);
    const logins = await tableDigest(src, 'digoal_01', 'SELECT * FROM digoal_01.user_login_rec');
    assert.ok(logins.rows > 0, 'the load wrote logins');
    for (const t of TABLES) assert.deepEqual(await tableDigest(dst, 'digoal_01', `SELECT * FROM digoal_01.${t}`), await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t}`), `dst1 ${t}`);
    for (const t of ['user_info', 'user_session']) {
      assert.deepEqual(await tableDigest(dst, 'digoal_02', `SELECT * FROM digoal_02.${t}1`), await tableDigest(src, 'digoal_01', `SELECT * FROM digoal_01.${t} WHERE userid < 1000`), `dst2 ${t}1`);
    }
    for (const d of daemons) assert.equal((await d.stop()).code, 0, diag());
    assert.ok(!healthy('londisted'), 'the metrics listener goes with the process');
    assert.equal(readTextFile(`${run}/londisted.pid`), '');
  });
});
