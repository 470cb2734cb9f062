// docker/k8s, read as data (no cluster here): each manifest parses; the londisted Deployment of the job set
// projects its ConfigMap into /etc/skytools as londisted.yaml and jobs.d/, which, written out, loads with
// londisted's own loaders into config/jobs.d's jobs on the cluster's services; one replica, Recreate, a
// grace period above shutdown_timeout, the image's uid, the password file copied 0600 where PGPASSFILE
// points; pgqd's ConfigMap loads with pgqd's loader.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { parseConnstr } from '@skytools/core';
import { loadJobConfig, loadSupervisorConfig, type JobConfig } from '@skytools/londiste';
import { loadPgqdConfig } from '@skytools/pgqd';
import { repoRoot } from '@skytools/harness';
import { compareWithSeedJobs, seedJobFiles } from './seed-jobs.js';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: DeploymentSpec;
  resources?: string[];
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; value: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; defaultMode?: number };
  emptyDir?: object;
}
interface DeploymentSpec {
  replicas: number;
  strategy: { type: string };
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: { terminationGracePeriodSeconds: number; securityContext: { runAsUser: number; runAsGroup: number; runAsNonRoot: boolean }; initContainers: Container[]; containers: Container[]; volumes: Volume[] };
  };
}

const k8sDir = join(repoRoot(), 'docker', 'k8s');
const load = (f: string): Manifest[] => YAML.parseAllDocuments(readFileSync(join(k8sDir, f), 'utf8')).map((d) => d.toJS() as Manifest);
const kustomization = load('kustomization.yaml')[0];
const all = (kustomization?.resources ?? []).flatMap(load);
const find = (kind: string, name: string): Manifest => {
  const m = all.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m !== undefined, `${kind} ${name}`);
  return m;
};
const dockerfileUid = Number(/^USER (\d+):(\d+)$/m.exec(readFileSync(join(repoRoot(), 'docker', 'Dockerfile'), 'utf8'))?.[1]);

/** A Deployment's common shape: one replica, Recreate, labels, the image's uid, the pgpass copy, read-only root. */
function checkDeployment(d: Manifest, container: string): Container {
  const spec = d.spec;
  assert.ok(spec !== undefined);
  assert.equal(spec.replicas, 1);
  assert.equal(spec.strategy.type, 'Recreate');
  for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[k], v, `${d.metadata.name}: selector ${k}`);
  const pod = spec.template.spec;
  assert.equal(pod.securityContext.runAsUser, dockerfileUid, 'the uid the image runs as');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  const c = pod.containers.find((x) => x.name === container);
  assert.ok(c !== undefined);
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  // libpq's rule: the password file must not be readable by others, so it is copied 0600 before the start
  const passfile = c.env?.find((e) => e.name === 'PGPASSFILE')?.value ?? '';
  const init = pod.initContainers.find((x) => x.name === 'pgpass');
  assert.deepEqual(init?.command, ['sh', '-c', `install -m 0600 /secrets/pgpass ${passfile}`]);
  const runMount = c.volumeMounts?.find((m) => passfile.startsWith(`${m.mountPath}/`));
  assert.ok(runMount !== undefined && pod.volumes.find((v) => v.name === runMount.name)?.emptyDir !== undefined, 'PGPASSFILE lies in an emptyDir');
  assert.ok(init?.volumeMounts?.some((m) => m.name === runMount.name && m.mountPath === runMount.mountPath));
  const secretVolume = pod.volumes.find((v) => v.secret !== undefined);
  const secret = find('Secret', secretVolume?.secret?.secretName ?? '');
  assert.ok(init?.volumeMounts?.some((m) => m.name === secretVolume?.name && m.mountPath === '/secrets'));
  for (const line of (secret.stringData?.['pgpass'] ?? '').split('\n').filter((l) => l !== '')) assert.equal(line.split(':').length, 5, `a pgpass line: ${line}`);
  return c;
}

describe('docker/k8s manifests', () => {
  const work = mkdtempSync(join(tmpdir(), 'skytools-k8s-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('kustomization lists every manifest, and each parses', () => {
    assert.equal(kustomization?.kind, 'Kustomization');
    assert.deepEqual(all.map((m) => `${m.kind}/${m.metadata.name}`).sort(), ['ConfigMap/londisted-digoal', 'ConfigMap/pgqd-source', 'Deployment/londisted-digoal', 'Deployment/pgqd-source', 'Secret/skytools-pgpass']);
  });

  it('the job set: londisted.yaml and the job files of its ConfigMap, projected into /etc/skytools, are config/jobs.d on the cluster', () => {
    const deployment = find('Deployment', 'londisted-digoal');
    const c = checkDeployment(deployment, 'londisted');
    assert.deepEqual(c.args, ['londisted', '--config', '/etc/skytools/londisted.yaml']);
    const mount = c.volumeMounts?.find((m) => m.mountPath === '/etc/skytools');
    assert.equal(mount?.readOnly, true);
    const volume = deployment.spec?.template.spec.volumes.find((v) => v.name === mount?.name);
    const cm = find('ConfigMap', volume?.configMap?.name ?? '');
    const items = volume?.configMap?.items ?? [];
    assert.deepEqual(items.map((i) => i.key).sort(), Object.keys(cm.data ?? {}).sort(), 'every key projected');
    // what the kubelet writes into /etc/skytools
    const etc = join(work, 'etc-skytools');
    for (const i of items) {
      mkdirSync(dirname(join(etc, i.path)), { recursive: true });
      writeFileSync(join(etc, i.path), cm.data?.[i.key] ?? '');
    }
    const supervisor = loadSupervisorConfig(join(etc, 'londisted.yaml'));
    assert.equal(supervisor.jobs_dir, join(etc, 'jobs.d'));
    assert.equal(supervisor.log_format, 'json');
    const jobs = new Map<string, JobConfig>(seedJobFiles().map((f) => [f, loadJobConfig(join(supervisor.jobs_dir, f))]));
    const servers = compareWithSeedJobs(jobs, 'docker/k8s londisted-digoal');
    assert.deepEqual(Object.fromEntries(servers), { '127.0.0.1:5432': 'pg-source:5432', '127.0.0.1:5433': 'pg-target:5432' });
    for (const j of jobs.values()) assert.equal(parseConnstr(j.db)['password'], undefined, `${j.job_name}: no password in the connection string`);
    // batches in flight commit before the kubelet's SIGKILL
    assert.ok((deployment.spec?.template.spec.terminationGracePeriodSeconds ?? 0) * 1000 > supervisor.shutdown_timeout);
  });

  it('pgqd for the source cluster', () => {
    const deployment = find('Deployment', 'pgqd-source');
    const c = checkDeployment(deployment, 'pgqd');
    assert.deepEqual(c.args, ['pgqd', '--config', '/etc/skytools/pgqd.yaml']);
    const volume = deployment.spec?.template.spec.volumes.find((v) => v.name === c.volumeMounts?.find((m) => m.mountPath === '/etc/skytools')?.name);
    const cm = find('ConfigMap', volume?.configMap?.name ?? '');
    const file = join(work, 'pgqd.yaml');
    writeFileSync(file, cm.data?.['pgqd.yaml'] ?? '');
    const config = loadPgqdConfig(file);
    assert.equal(parseConnstr(config.base_connstr)['host'], 'pg-source');
    assert.equal(config.log_format, 'json');
  });
});
