// docker/grafana/skytools-dashboard.json queries only metrics the daemons export: every metric name
// in its expressions is a family declared by londisted's or pgqd's /metrics, and every label it
// filters or groups by is one they write.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@skytools/harness';
import { JobStats, supervisorMetrics } from '@skytools/londiste';
import { DatabaseStats, pgqdMetrics } from '@skytools/pgqd';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

describe('Grafana dashboard', () => {
  const dash = JSON.parse(readFileSync(join(repoRoot(), 'docker', 'grafana', 'skytools-dashboard.json'), 'utf8')) as { panels: Panel[]; templating: { list: { query?: unknown }[] } };
  const job = new JobStats('j1');
  job.seenNode({ queue: 'q', name: 'n', type: 'leaf', provider: 'r', paused: false });
  job.seenTables([{ name: 't', dest: 't', state: 'ok' }]);
  job.batchDone(3, '7', new Date());
  job.copyStarted('t2', { rows: 1, bytes: 2 });
  const exported = supervisorMetrics([job]) + pgqdMetrics(new Map([['db', new DatabaseStats()]]));
  const families = new Set([...exported.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]));
  const labels = new Set([...exported.matchAll(/[{,](\w+)="/g)].map((m) => m[1]));
  const exprs = [...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dash.templating.list.map((v) => (typeof v.query === 'string' ? v.query : ''))];

  it('queries declared metric families only', () => {
    assert.ok(exprs.length >= 10);
    for (const e of exprs) {
      for (const m of e.matchAll(/\b((?:londiste|londisted|pgqd|process)_\w+)/g)) assert.ok(families.has(m[1]), `${m[1] ?? ''} (in ${e}) is not exported`);
    }
  });

  it('filters and groups by labels the metrics carry', () => {
    for (const e of exprs) {
      for (const m of e.matchAll(/[{,]\s*(\w+)\s*=~?/g)) if (m[1] !== 'instance') assert.ok(labels.has(m[1]), `label ${m[1] ?? ''} (in ${e}) is not written`);
      for (const m of e.matchAll(/label_values\([^,]+,\s*(\w+)\)/g)) if (m[1] !== 'instance') assert.ok(labels.has(m[1]), `label ${m[1] ?? ''} is not written`);
    }
    for (const p of dash.panels) for (const t of p.targets ?? []) assert.ok(!/[{,]job=/.test(t.expr), `${p.title}: job is Prometheus' own label; ours is job_name`);
  });
});
