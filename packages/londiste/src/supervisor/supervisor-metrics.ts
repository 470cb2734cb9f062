/**
 * londisted's metrics (Prometheus text) and status (JSON for the status page), both read from
 * the jobs' in-memory statistics: a scrape costs no database round trip, however many jobs.
 * docs/londisted.md "Metrics and status page" lists each metric with its meaning. The job's label
 * is job_name: Prometheus gives every scraped series a label `job` of its own (the scrape job).
 */
import { MetricsText, SKYTOOLS_TS_VERSION } from '@skytools/core';
import type { JobStats, TableView } from '../worker/job-stats.js';

export function supervisorMetrics(jobs: readonly JobStats[], now = Date.now()): string {
  const m = new MetricsText().processMetrics('londisted', SKYTOOLS_TS_VERSION);
  m.single('londisted_jobs', 'gauge', 'Jobs hosted (job files loaded from jobs_dir).', jobs.length);
  const perJob = (name: string, type: 'counter' | 'gauge', help: string, value: (j: JobStats) => number | null): void => {
    m.family(name, type, help);
    for (const j of jobs) {
      const v = value(j);
      if (v !== null) m.sample(name, v, { job_name: j.job });
    }
  };
  m.family('londiste_job_up', 'gauge', "1 while the job's worker runs (holds its lock and goes round), 0 while it fails or waits to restart.");
  for (const j of jobs) m.sample('londiste_job_up', j.up ? 1 : 0, { job_name: j.job, queue: j.node?.queue ?? '', node: j.node?.name ?? '', type: j.node?.type ?? '' });
  perJob('londiste_job_standby', 'gauge', '1 while another process runs this job (holds its lock) and this one waits as a warm standby.', (j) => (j.standby ? 1 : 0));
  perJob('londiste_job_paused', 'gauge', '1 while the node is paused (londiste pause).', (j) => (j.node === undefined ? null : j.node.paused ? 1 : 0));
  perJob('londiste_job_lag_seconds', 'gauge', 'Seconds between the newest tick the job applied and now; while idle (nothing waiting), the lag when it caught up.', (j) => j.lagSeconds(now));
  perJob('londiste_job_last_tick_id', 'gauge', 'The newest tick the job applied.', (j) => (j.lastTickId === null ? null : Number(j.lastTickId)));
  perJob('londiste_job_batches_total', 'counter', 'Batches applied (empty ones included).', (j) => j.batches);
  perJob('londiste_job_events_total', 'counter', 'Events in the batches applied; rate() gives events applied per second.', (j) => j.events);
  perJob('londiste_job_errors_total', 'counter', 'Rounds that failed with an error (retried with back-off).', (j) => j.errors);
  perJob('londiste_job_restarts_total', 'counter', "Restarts of the job's worker after it failed to start or stopped.", (j) => j.restarts);
  perJob('londiste_job_copies_total', 'counter', 'Initial copies committed.', (j) => j.copiesDone);
  perJob('londiste_job_copied_rows_total', 'counter', 'Rows of the initial copies committed.', (j) => j.copiedRows);
  perJob('londiste_job_copied_bytes_total', 'counter', 'Bytes of COPY data of the initial copies committed.', (j) => j.copiedBytes);
  m.family('londiste_job_tables', 'gauge', "Tables of the job's node by state (ok, in-copy, catching-up, wanting copy, ...).");
  for (const j of jobs) {
    const byState = new Map<string, number>();
    for (const t of j.tableViews(now)) byState.set(t.state, (byState.get(t.state) ?? 0) + 1);
    for (const [state, n] of [...byState].sort()) m.sample('londiste_job_tables', n, { job_name: j.job, state });
  }
  m.family('londiste_copy_rows', 'gauge', 'Rows streamed so far by a running initial copy.');
  m.family('londiste_copy_bytes', 'gauge', 'Bytes streamed so far by a running initial copy.');
  m.family('londiste_copy_seconds', 'gauge', 'Seconds since a running initial copy started streaming.');
  for (const j of jobs) {
    for (const c of j.runningCopies(now)) {
      const labels = { job_name: j.job, table: c.table };
      m.sample('londiste_copy_rows', c.rows, labels).sample('londiste_copy_bytes', c.bytes, labels).sample('londiste_copy_seconds', c.seconds, labels);
    }
  }
  return m.toString();
}

export interface JobStatus {
  job: string;
  up: boolean;
  standby: boolean;
  queue: string | null;
  node: string | null;
  type: string | null;
  provider: string | null;
  paused: boolean;
  lagSeconds: number | null;
  lastTickId: string | null;
  batches: number;
  events: number;
  errors: number;
  restarts: number;
  lastError: string | null;
  lastErrorAt: string | null;
  tables: TableView[];
}

export function supervisorStatus(jobs: readonly JobStats[], now = Date.now()): { program: string; version: string; time: string; jobs: JobStatus[] } {
  return {
    program: 'londisted',
    version: SKYTOOLS_TS_VERSION,
    time: new Date(now).toISOString(),
    jobs: jobs.map((j) => ({
      job: j.job,
      up: j.up,
      standby: j.standby,
      queue: j.node?.queue ?? null,
      node: j.node?.name ?? null,
      type: j.node?.type ?? null,
      provider: j.node?.provider ?? null,
      paused: j.node?.paused ?? false,
      lagSeconds: j.lagSeconds(now),
      lastTickId: j.lastTickId,
      batches: j.batches,
      events: j.events,
      errors: j.errors,
      restarts: j.restarts,
      lastError: j.lastError,
      lastErrorAt: j.lastErrorAt === null ? null : new Date(j.lastErrorAt).toISOString(),
      tables: j.tableViews(now),
    })),
  };
}
