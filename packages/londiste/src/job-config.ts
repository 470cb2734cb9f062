/**
 * A replication job: one node of one cascaded queue, described by a YAML file
 * (`londiste JOB.yaml COMMAND`, or a file in londisted's jobs_dir). Key names follow upstream
 * Londiste 3 .ini files.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { peekJobType } from './consumer-jobs/consumer-job-config.js';
import { loadConfigFile, sampleConfig, UsageError, type ConfigOf, type ConfigSpec, type ConfigWarn, type IniFormat, upstreamKeysWith } from '@skytools/core';

export const JOB_SPEC = {
  job_type: { type: 'choice', choices: ['londiste'], default: 'londiste', describe: 'londiste: a replication worker. londisted also runs consumer jobs (queue_mover, queue_splitter,\nsimple_consumer, simple_local_consumer, module): docs/londisted.md, "Consumer jobs".' },
  job_name: { type: 'string', describe: 'Name of the job, also the worker (consumer) name on the queue.\nDefault: the file name without .yaml (or .ini).' },
  db: { type: 'connstr', required: true, describe: 'Connection string of the local node database.', example: "'host=127.0.0.1 port=5432 dbname=digoal_01 user=postgres'" },
  queue_name: { type: 'string', required: true, describe: 'The cascaded queue this node belongs to.', example: 'replika' },
  node_name: { type: 'string', describe: 'Node name for create-root/create-branch/create-leaf when the command line gives none.' },
  public_node_location: { type: 'connstr', describe: 'How other nodes reach this one (create-* uses it when no CONNSTR argument is given).' },
  initial_provider_location: { type: 'connstr', describe: 'Provider for create-branch/create-leaf when --provider is not given.' },
  logfile: { type: 'path', describe: 'Append log lines here (default: stderr).' },
  pidfile: { type: 'path', describe: 'Pid file of a running worker (for -s/-r style control).' },
  loglevel: { type: 'loglevel', default: 'info', describe: 'debug, info, warning or error.' },
  loop_delay: { type: 'duration', default: '1s', minMs: 10, describe: 'Longest sleep of an idle worker between checks for a new batch\n(a worker also wakes at once on a new tick).' },
  parallel_copies: { type: 'int', default: 1, min: 1, max: 64, describe: 'Tables of this job copied at the same time during initial copy.' },
  pool_size: {
    type: 'int',
    min: 5,
    max: 1000,
    describe:
      "Most connections the job holds at once: its lock, the worker's local node and provider (3),\n" +
      'two per running copy and one for the ANALYZE of copied tables. A copy waits for room; the smaller\n' +
      'of pool_size and parallel_copies wins. Default: 4 + 2 x parallel_copies.',
  },
  batch_merge_events: {
    type: 'int',
    // a leaf draining a backlog of small rows: 20000 gave 101k events/s, 100000 108k on 2 cores
    // (bench/README.md), with the worker's peak RSS at 114 MB
    default: 100000,
    min: 0,
    describe: 'A leaf that is behind applies several ticks as one batch, up to about this many events\n(fewer round trips and commits while catching up); 0 applies tick by tick.',
  },
  read_ahead: {
    type: 'bool',
    // with batches merged up to 100000 events the provider's rows stream into the target's COPY as
    // they come, so reading ahead hid nothing: drains over loopback 102-106k events/s with it
    // against 118-119k without, -3 % at a 20 ms round trip, +1 % at 50 ms (bench/README.md)
    default: false,
    describe: "While a leaf that is behind applies a merged batch, its provider connection reads the next\none (up to batch_merge_events events, at most 32 MB kept per job): the provider's query and\ntransfer are hidden behind the apply. For a provider over a link slower than the target's COPY\n(bandwidth-limited), with batch_merge_events lowered to about 20000 to fit the 32 MB; false (the\ndefault) reads each batch in its turn, streamed into the stage.",
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
  handler_modules: {
    type: 'strings',
    describe: 'JavaScript modules (paths, relative to this file) exporting handlers: third-party\ntable handlers for add-table --handler and the worker (docs/handlers.md).',
  },
  lock_timeout: { type: 'duration', default: '10s', describe: 'How long admin commands wait for a table lock (PostgreSQL lock_timeout\non the local node) before giving up with nothing changed; 0 waits for ever.' },
} as const satisfies ConfigSpec;

const LOGGING = 'logs go to logfile or stderr in this format (the journal under systemd)';
const ROTATION = 'rotate the log with logrotate: SIGHUP opens it again (docs/operations.md)';
const RETRIES = 'a failed round is retried with its own back-off here';
const MERGING = 'batches of a leaf behind are merged up to batch_merge_events instead';
const COPIES = 'parallel_copies says how many tables copy at once';
const HANDLERS = 'upstream\'s handler modules and their settings are not implemented here (built-in handlers: show-handlers)';
const LOCAL_ONLY = 'a node replaying only the tables it has locally is not implemented';
const COMPARE = 'compare uses its own row digest (docs/londiste.md, compare)';

/**
 * Upstream Londiste's job keys without a key here. Those that only tune logging, retries or
 * fetching are dropped with a warning; those that change what is replicated are refused.
 */
const UPSTREAM_JOB_KEYS: IniFormat['upstreamKeys'] = {
  ...upstreamKeysWith('none', LOGGING, 'use_skylog', 'skylog_locations', 'logfmt_console', 'logfmt_console_verbose', 'logfmt_file', 'logfmt_file_verbose'),
  ...upstreamKeysWith('none', LOGGING, 'logdatefmt_console', 'logdatefmt_console_verbose', 'logdatefmt_file', 'logdatefmt_file_verbose'),
  ...upstreamKeysWith('none', ROTATION, 'log_count', 'log_size'),
  ...upstreamKeysWith('none', 'the worker manages its own transactions', 'pgq_autocommit'),
  ...upstreamKeysWith('none', 'a batch is read with one COPY, not a cursor', 'pgq_lazy_fetch'),
  ...upstreamKeysWith('none', MERGING, 'pgq_batch_collect_events', 'pgq_batch_collect_interval'),
  ...upstreamKeysWith('none', COPIES, 'threaded_copy_pool_size', 'threaded_copy_tables'),
  ...upstreamKeysWith('none', 'status and londisted report the workers', 'keepalive_stats'),
  ...upstreamKeysWith('none', 'the worker keeps its connections while they work', 'connection_lifetime'),
  ...upstreamKeysWith('none', RETRIES, 'exception_sleep', 'exception_reset', 'exception_quiet', 'exception_grace'),
  ...upstreamKeysWith('none', RETRIES, 'sql_retry', 'sql_retry_max_count', 'sql_retry_max_time', 'sql_retry_formula_a', 'sql_retry_formula_b', 'sql_retry_formula_cap'),
  ...upstreamKeysWith('none', 'the watermark is published with every batch', 'local_wm_publish_period'),
  ...upstreamKeysWith('none', 'the root publishes the global watermark with its maintenance', 'global_wm_publish_period'),
  ...upstreamKeysWith('refused', "upstream's handler modules are Python; list JavaScript handler modules in a YAML job file", 'handler_modules'),
  ...upstreamKeysWith('refused', HANDLERS, 'obfuscator_map', 'obfuscator_key', 'shard_hash_func', 'shard_info_sql'),
  ...upstreamKeysWith('refused', LOCAL_ONLY, 'local_only', 'local_only_drop_execute'),
  ...upstreamKeysWith('refused', 'registering only some tables is not implemented: add-table names the tables', 'register_only_tables', 'register_skip_tables'),
  ...upstreamKeysWith('refused', 'registering only some sequences is not implemented: add-seq names the sequences', 'register_only_seqs', 'register_skip_seqs'),
  ...upstreamKeysWith('refused', COMPARE, 'compare_sql', 'compare_fmt'),
  ...upstreamKeysWith('refused', 'the consumer name is the job_name', 'consumer_name'),
  ...upstreamKeysWith('refused', 'the key is queue_name', 'pgq_queue_name'),
  ...upstreamKeysWith('refused', 'a worker deliberately lagging behind is not implemented', 'pgq_keep_lag'),
  ...upstreamKeysWith('refused', 'put connection options into db', 'extra_connstr'),
};

/** Upstream job files: `[londiste]` (Londiste 3.x, python3) or `[londiste3]` (Skytools 3.0-3.2). */
export const JOB_INI: IniFormat = { services: ['londiste', 'londiste3'], upstreamKeys: UPSTREAM_JOB_KEYS };

export type JobConfigValues = ConfigOf<typeof JOB_SPEC>;

export interface JobConfig extends JobConfigValues {
  job_name: string;
  /** The YAML file the job came from. */
  file: string;
}

/** A job file: YAML, or upstream's .ini (`warn` hears each upstream key dropped from it). */
export function loadJobConfig(file: string, warn?: ConfigWarn): JobConfig {
  const consumerType = peekJobType(file);
  if (consumerType !== undefined) {
    throw new UsageError(`${file}: job_type ${consumerType} is no Londiste job: londisted runs consumer jobs (docs/londisted.md, "Consumer jobs"); the londiste command works on Londiste jobs`);
  }
  const values = loadConfigFile(file, JOB_SPEC, JOB_INI, warn);
  const jobName = values.job_name ?? basename(file, extname(file));
  return { ...values, job_name: jobName, file };
}

/** A job file's content hash: a reload restarts a job only when its file changed. */
export function jobFileFingerprint(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function sampleJobConfig(): string {
  return sampleConfig(JOB_SPEC, 'Londiste replication job.\nUsage: londiste JOB.yaml COMMAND [ARGS]');
}
