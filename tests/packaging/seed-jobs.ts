/**
 * The seed demo's job files (config/jobs.d) against another rendering of them (docker/demo/jobs.d,
 * the k8s ConfigMap): the same files, the same jobs, queues and databases, every other key the same,
 * except where the job's server is (host, port), its user, and its log and pid files (stderr and no
 * pidfile in containers). The servers must map one to one: the jobs sharing a server in config/ share
 * one in the other rendering.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConnstr } from '@skytools/core';
import { loadJobConfig, type JobConfig } from '@skytools/londiste';
import { repoRoot } from '@skytools/harness';

const PLACE_KEYS = new Set(['db', 'logfile', 'pidfile', 'file']);

export function seedJobFiles(): string[] {
  return readdirSync(join(repoRoot(), 'config', 'jobs.d')).filter((f) => f.endsWith('.yaml')).sort();
}

/** Check `jobs` (file name -> loaded job) against config/jobs.d; the server each config server became ("127.0.0.1:5432" -> "source:5432"). */
export function compareWithSeedJobs(jobs: ReadonlyMap<string, JobConfig>, where: string): Map<string, string> {
  assert.deepEqual([...jobs.keys()].sort(), seedJobFiles(), `${where}: the job files of config/jobs.d`);
  const servers = new Map<string, string>();
  for (const f of seedJobFiles()) {
    const seed = loadJobConfig(join(repoRoot(), 'config', 'jobs.d', f));
    const other = jobs.get(f);
    assert.ok(other !== undefined);
    const strip = (j: JobConfig): Record<string, unknown> => Object.fromEntries(Object.entries(j).filter(([k]) => !PLACE_KEYS.has(k)));
    assert.deepEqual(strip(other), strip(seed), `${where}/${f}: the same job`);
    const a = parseConnstr(seed.db);
    const b = parseConnstr(other.db);
    assert.equal(b['dbname'], a['dbname'], `${where}/${f}: the same database`);
    const from = `${a['host'] ?? ''}:${a['port'] ?? '5432'}`;
    const to = `${b['host'] ?? ''}:${b['port'] ?? '5432'}`;
    assert.equal(servers.get(from) ?? to, to, `${where}/${f}: jobs on one server in config/ share one here`);
    servers.set(from, to);
  }
  assert.equal(new Set(servers.values()).size, servers.size, `${where}: distinct servers stay distinct`);
  return servers;
}
