// docker/compose.yaml and docker/Dockerfile, read as data (no Docker here; tests/packaging/compose-demo.test.ts
// runs the seed and the daemons on real servers): a PostgreSQL 13 source and a 17 target with healthchecks,
// pgqd for each, londisted on the image's default command with the demo config mounted at /etc/skytools,
// the seed and the load; the demo's job files are config/jobs.d's with the services' host names, and every
// config file the services name loads with the programs' own loaders. Where a Docker daemon answers, the
// image is built and its programs run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseConnstr } from '@skytools/core';
import { loadJobConfig, loadSupervisorConfig, type JobConfig } from '@skytools/londiste';
import { loadPgqdConfig } from '@skytools/pgqd';
import { repoRoot, seedPgbenchScript } from '@skytools/harness';
import { compareWithSeedJobs } from './seed-jobs.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const dockerDir = join(repoRoot(), 'docker');
const compose = YAML.parse(readFileSync(join(dockerDir, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const svc = (name: string): Service => {
  const s = services[name];
  assert.ok(s !== undefined, `service ${name}`);
  return s;
};
const dockerfile = readFileSync(join(dockerDir, 'Dockerfile'), 'utf8');
/** The host directory mounted at `target` in a service. */
const mounted = (s: Service, target: string): string | undefined => {
  for (const v of s.volumes ?? []) {
    const [from, to] = v.split(':');
    if (to === target && from !== undefined) return resolve(dockerDir, from);
  }
  return undefined;
};
const major = (image: string | undefined): number => Number(/^postgres:(\d+)(\.|-|$)/.exec(image ?? '')?.[1]);

describe('docker/compose.yaml and docker/Dockerfile', () => {
  it('has the servers, the daemons, the seed and the load', () => {
    assert.deepEqual(Object.keys(services).sort(), ['londisted', 'load', 'pgqd-source', 'pgqd-target', 'seed', 'source', 'target'].sort());
    assert.equal(major(svc('source').image), 13);
    assert.equal(major(svc('target').image), 17);
  });

  it('every long-running service has a healthcheck, and start-up waits on them', () => {
    for (const name of ['source', 'target']) assert.deepEqual(svc(name).healthcheck?.test.slice(0, 2), ['CMD', 'pg_isready'], name);
    for (const name of ['pgqd-source', 'pgqd-target']) {
      const test = svc(name).healthcheck?.test ?? [];
      assert.equal(test[0], 'CMD-SHELL', name);
      // the pid file the check reads is the one the daemon's config writes
      const pidfile = /test -s (\S+) && kill -0/.exec(test[1] ?? '')?.[1];
      assert.equal(loadPgqdConfig(join(dockerDir, 'demo', `${name}.yaml`)).pidfile, pidfile, name);
    }
    // londisted is healthy once its metrics answer, on the port its config listens on, published on the host's loopback only
    const test = svc('londisted').healthcheck?.test ?? [];
    assert.deepEqual(test.slice(0, 3), ['CMD', 'node', '-e'], 'londisted healthcheck');
    const listen = loadSupervisorConfig(join(dockerDir, 'demo', 'londisted.yaml')).metrics_listen ?? '';
    const port = /:(\d+)$/.exec(listen)?.[1] ?? '?';
    assert.match(test[3] ?? '', new RegExp(`fetch\\('http://127\\.0\\.0\\.1:${port}/metrics'\\)`));
    assert.deepEqual(svc('londisted').ports, [`127.0.0.1:${port}:${port}`]);
    assert.deepEqual(svc('seed').depends_on, { source: { condition: 'service_healthy' }, target: { condition: 'service_healthy' } });
    assert.deepEqual(svc('londisted').depends_on, {
      seed: { condition: 'service_completed_successfully' },
      'pgqd-source': { condition: 'service_healthy' },
      'pgqd-target': { condition: 'service_healthy' },
    });
    assert.deepEqual(svc('load').depends_on, { londisted: { condition: 'service_healthy' } });
  });

  it("londisted runs the image's default command, londisted --config /etc/skytools/londisted.yaml, on the mounted demo config", () => {
    const cmds = [...dockerfile.matchAll(/^CMD (.+)$/gm)].map((m) => JSON.parse(m[1] ?? '') as string[]);
    assert.deepEqual(cmds.at(-1), ['londisted', '--config', '/etc/skytools/londisted.yaml']);
    const l = svc('londisted');
    assert.equal(l.command, undefined);
    assert.equal(l.build?.dockerfile, 'docker/Dockerfile');
    assert.ok(existsSync(resolve(dockerDir, l.build?.context ?? '', l.build?.dockerfile ?? '')));
    assert.equal(mounted(l, '/etc/skytools'), join(dockerDir, 'demo'));
    const config = loadSupervisorConfig(join(dockerDir, 'demo', 'londisted.yaml'));
    assert.equal(config.jobs_dir, join(dockerDir, 'demo', 'jobs.d'));
  });

  it("the demo's jobs are config/jobs.d's, on the compose servers: the root on 13, the subscribers on 17", () => {
    const dir = join(dockerDir, 'demo', 'jobs.d');
    const jobs = new Map<string, JobConfig>(readdirSync(dir).map((f) => [f, loadJobConfig(join(dir, f))]));
    const servers = compareWithSeedJobs(jobs, 'docker/demo/jobs.d');
    assert.equal(servers.get('127.0.0.1:5432'), 'source:5432');
    assert.equal(servers.get('127.0.0.1:5433'), 'target:5432');
    for (const j of jobs.values()) assert.equal(j.logfile, undefined, `${j.job_name}: logs to stderr (docker compose logs)`);
  });

  it('pgqd serves each server with its own config', () => {
    for (const [name, host] of [['pgqd-source', 'source'], ['pgqd-target', 'target']] as const) {
      const s = svc(name);
      assert.deepEqual(s.command, ['pgqd', '--config', `/etc/skytools/${name}.yaml`]);
      assert.equal(mounted(s, '/etc/skytools'), join(dockerDir, 'demo'));
      assert.equal(parseConnstr(loadPgqdConfig(join(dockerDir, 'demo', `${name}.yaml`)).base_connstr)['host'], host);
    }
  });

  it('the seed script is the one the image carries, for the demo jobs; the load is the harness pgbench script', () => {
    const seed = svc('seed');
    assert.deepEqual(seed.command, ['node', '/usr/local/lib/skytools-ts/demo/seed.mjs']);
    assert.match(dockerfile, /cp docker\/demo\/seed\.mjs \/staging\/usr\/local\/lib\/skytools-ts\/demo\/seed\.mjs/);
    assert.match(dockerfile, /cp tests\/harness\/dist\/seed\.js \/staging\/usr\/local\/lib\/skytools-ts\/demo\/seed-schema\.js/);
    const script = readFileSync(join(dockerDir, 'demo', 'seed.mjs'), 'utf8');
    const named = new Set([...script.matchAll(/londiste\('(\w+)'/g)].map((m) => `${m[1] ?? ''}.yaml`));
    assert.deepEqual([...named].sort(), readdirSync(join(dockerDir, 'demo', 'jobs.d')).sort());
    const load = svc('load');
    assert.equal(major(load.image), 13);
    assert.equal(mounted(load, '/load/login_logout.sql'), join(dockerDir, 'demo', 'login_logout.sql'));
    assert.equal(readFileSync(join(dockerDir, 'demo', 'login_logout.sql'), 'utf8'), seedPgbenchScript('digoal_01', Number(seed.environment?.['DEMO_USERS'])));
  });

  // the image itself, where a Docker daemon answers (CI machines without one skip this with the reason)
  const docker = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  const noDocker = docker.status === 0 ? undefined : 'no Docker daemon here (docker info failed): the image is not built';
  it('builds the image, whose programs run and whose default command is londisted on /etc/skytools', { skip: noDocker, timeout: 1_800_000 }, () => {
    const tag = `skytools-ts-test:${String(process.pid)}`;
    const build = spawnSync('docker', ['build', '-q', '-f', 'docker/Dockerfile', '-t', tag, '.'], { cwd: repoRoot(), encoding: 'utf8', timeout: 1_700_000 });
    assert.equal(build.status, 0, build.stderr);
    try {
      for (const prog of ['pgqd', 'londisted', 'londiste']) {
        const r = spawnSync('docker', ['run', '--rm', tag, prog, '--version'], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${prog}: ${r.stderr}`);
        assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
      }
      const cmd = spawnSync('docker', ['image', 'inspect', '--format', '{{json .Config.Cmd}}', tag], { encoding: 'utf8' });
      assert.deepEqual(JSON.parse(cmd.stdout) as unknown, ['londisted', '--config', '/etc/skytools/londisted.yaml']);
    } finally {
      spawnSync('docker', ['image', 'rm', '-f', tag]);
    }
  });
});
