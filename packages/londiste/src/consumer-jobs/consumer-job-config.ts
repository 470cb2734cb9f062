/**
 * Consumer jobs of londisted (a job file's `job_type`, docs/londisted.md "Consumer jobs"): PgQ
 * consumers that are not Londiste workers, after upstream's queue_mover, queue_splitter,
 * simple_consumer and simple_local_consumer scripts, and a user's module. Each type takes the
 * keys it uses and refuses the others: a key that would be ignored is refused.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import YAML from 'yaml';
import { loadConfigFile, sampleConfig, UsageError, type ConfigOf, type ConfigSpec } from '@skytools/core';
import { compileEventQuery } from './event-query.js';

export const CONSUMER_JOB_TYPES = ['queue_mover', 'queue_splitter', 'simple_consumer', 'simple_local_consumer', 'module'] as const;
export type ConsumerJobType = (typeof CONSUMER_JOB_TYPES)[number];

/** The event fields a splitter may take the target queue's name from. */
export const QUEUE_FIELDS = ['type', 'extra1', 'extra2', 'extra3', 'extra4'] as const;

export const CONSUMER_JOB_SPEC = {
  job_type: { type: 'choice', choices: CONSUMER_JOB_TYPES, required: true, describe: `What the job does: ${CONSUMER_JOB_TYPES.join(', ')}.` },
  job_name: { type: 'string', describe: 'Name of the job, also its consumer name on the queue. Default: the file name.' },
  src_db: { type: 'connstr', required: true, describe: 'Connection string of the database holding the queue.' },
  queue_name: { type: 'string', required: true, describe: 'The queue to consume.' },
  dst_db: { type: 'connstr', describe: 'Where events go (queue_mover, queue_splitter, simple_consumer; a module with a target); pgq_ext is installed there.' },
  dst_queue_name: { type: 'string', describe: 'queue_mover: the queue events are moved into (default: queue_name).' },
  queue_field: { type: 'choice', choices: QUEUE_FIELDS, default: 'extra1', describe: "queue_splitter: the event field naming each event's target queue (upstream: extra1)." },
  dst_query: {
    type: 'string',
    describe:
      'simple_consumer, simple_local_consumer: SQL run once per event. Placeholders :ev_id, :ev_time, :ev_txid,\n:ev_type, :ev_data, :ev_extra1..:ev_extra4, and :data.NAME for a field of urlencoded event data.',
  },
  event_types: { type: 'strings', describe: 'simple_consumer, simple_local_consumer: only events of these types run dst_query (others are done).' },
  module: { type: 'path', describe: 'module: a JavaScript module (relative to this file) exporting `handler(batch, client)`.' },
  loop_delay: { type: 'duration', default: '10s', minMs: 10, describe: 'Longest sleep between looks for a batch when no tick notification comes.' },
  batch_merge_events: { type: 'int', default: 0, min: 0, describe: 'A job that is behind takes several ticks in one batch, up to about this many events (0: tick by tick).' },
  loglevel: { type: 'loglevel', default: 'info', describe: 'debug, info, warning or error.' },
} as const satisfies ConfigSpec;

export type ConsumerJobValues = ConfigOf<typeof CONSUMER_JOB_SPEC>;

export interface ConsumerJobConfig extends ConsumerJobValues {
  job_name: string;
  file: string;
}

/** Keys each type needs, and keys only some types take. */
const NEEDS: Record<ConsumerJobType, readonly (keyof ConsumerJobValues)[]> = {
  queue_mover: ['dst_db'],
  queue_splitter: ['dst_db'],
  simple_consumer: ['dst_db', 'dst_query'],
  simple_local_consumer: ['dst_query'],
  module: ['module'],
};
const TAKES: Partial<Record<keyof ConsumerJobValues, readonly ConsumerJobType[]>> = {
  dst_db: ['queue_mover', 'queue_splitter', 'simple_consumer', 'module'],
  dst_queue_name: ['queue_mover'],
  dst_query: ['simple_consumer', 'simple_local_consumer'],
  event_types: ['simple_consumer', 'simple_local_consumer'],
  module: ['module'],
};

export function isConsumerJob(job: { file: string }): job is ConsumerJobConfig {
  return 'src_db' in job && 'job_type' in job && (CONSUMER_JOB_TYPES as readonly unknown[]).includes((job as { job_type: unknown }).job_type);
}

/** The job_type a job file names (undefined: a Londiste job), read before the file is validated. */
export function peekJobType(file: string): string | undefined {
  if (!/\.ya?ml$/.test(file)) return undefined;
  try {
    const doc = YAML.parse(readFileSync(file, 'utf8')) as unknown;
    const t = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['job_type'] : undefined;
    return typeof t === 'string' && t !== 'londiste' ? t : undefined;
  } catch {
    // the loader says what is wrong with the file
    return undefined;
  }
}

export function loadConsumerJobConfig(file: string): ConsumerJobConfig {
  const raw = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const values = loadConfigFile(file, CONSUMER_JOB_SPEC);
  const type = values.job_type;
  for (const key of NEEDS[type]) if (values[key] === undefined) throw new UsageError(`${file}: job_type ${type} needs ${key}`);
  for (const [key, types] of Object.entries(TAKES)) {
    if (key in raw && !(types as readonly string[]).includes(type)) throw new UsageError(`${file}: ${key} is not used by job_type ${type} (only by ${(types as readonly string[]).join(', ')}); remove it`);
  }
  if ('queue_field' in raw && type !== 'queue_splitter') throw new UsageError(`${file}: queue_field is not used by job_type ${type} (only by queue_splitter); remove it`);
  // an unknown placeholder is refused here: the job is skipped, instead of failing at each start
  if (values.dst_query !== undefined) compileEventQuery(values.dst_query, file);
  return { ...values, job_name: values.job_name ?? basename(file, extname(file)), file };
}

export function sampleConsumerJobConfig(): string {
  return sampleConfig(CONSUMER_JOB_SPEC, 'A consumer job of londisted (docs/londisted.md, "Consumer jobs").');
}
