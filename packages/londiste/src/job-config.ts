/**
 * A replication job: one node of one cascaded queue, described by a YAML file
 * (`londiste JOB.yaml COMMAND`, or a file in londisted's jobs_dir). Key names follow upstream
 * Londiste 3 .ini files.
 */
import { basename, extname } from 'node:path';
import { loadConfigFile, sampleConfig, type ConfigOf, type ConfigSpec } from '@skytools/core';

export const JOB_SPEC = {
  job_name: { type: 'string', describe: 'Name of the job, also the worker (consumer) name on the queue.\nDefault: the file name without .yaml.' },
  db: { type: 'connstr', required: true, describe: 'Connection string of the local node database.', example: "'host=127.0.0.1 port=5432 dbname=digoal_01 user=postgres'" },
  queue_name: { type: 'string', required: true, describe: 'The cascaded queue this node belongs to.', example: 'replika' },
  public_node_location: { type: 'connstr', describe: 'How other nodes reach this one (create-* uses it when no CONNSTR argument is given).' },
  initial_provider_location: { type: 'connstr', describe: 'Provider for create-branch/create-leaf when --provider is not given.' },
  logfile: { type: 'path', describe: 'Append log lines here (default: stderr).' },
  pidfile: { type: 'path', describe: 'Pid file of a running worker (for -s/-r style control).' },
  loglevel: { type: 'loglevel', default: 'info', describe: 'debug, info, warning or error.' },
  loop_delay: { type: 'duration', default: '1s', minMs: 10, describe: 'Longest sleep of an idle worker between checks for a new batch\n(a worker also wakes at once on a new tick).' },
  parallel_copies: { type: 'int', default: 1, min: 1, max: 64, describe: 'Tables of this job copied at the same time during initial copy.' },
  batch_merge_events: {
    type: 'int',
    default: 20000,
    min: 0,
    describe: 'A leaf that is behind applies several ticks as one batch, up to about this many events\n(fewer round trips and commits while catching up); 0 applies tick by tick.',
  },
  copy_retry_max: {
    type: 'duration',
    default: '5m',
    minMs: 1000,
    describe: 'A failed initial copy is tried again after 2s, then twice as long each time,\nup to this long between tries.',
  },
  provider_timeout: {
    type: 'duration',
    default: '5m',
    minMs: 1000,
    describe: 'A query of the worker on its provider that has waited this long with nothing received\nis cut and retried on a new connection (a provider gone without closing the connection).',
  },
  provider_idle_release: {
    type: 'duration',
    default: '10s',
    describe: 'Under londisted, a job with no events and no copy for this long closes its provider\nconnection until the next tick (londisted hears ticks on one connection per provider\ndatabase); 0 keeps it open.',
  },
  lock_timeout: { type: 'duration', default: '10s', describe: 'How long admin commands wait for a table lock (PostgreSQL lock_timeout\non the local node) before giving up with nothing changed; 0 waits for ever.' },
} as const satisfies ConfigSpec;

export type JobConfigValues = ConfigOf<typeof JOB_SPEC>;

export interface JobConfig extends JobConfigValues {
  job_name: string;
  /** The YAML file the job came from. */
  file: string;
}

export function loadJobConfig(file: string): JobConfig {
  const values = loadConfigFile(file, JOB_SPEC);
  const jobName = values.job_name ?? basename(file, extname(file));
  return { ...values, job_name: jobName, file };
}

export function sampleJobConfig(): string {
  return sampleConfig(JOB_SPEC, 'Londiste replication job.\nUsage: londiste JOB.yaml COMMAND [ARGS]');
}
