/**
 * `dispatch` (and upstream's named variants `daily_event`, `monthly_field`, `bulk_hourly_batch`,
 * ...): the table's row events go into time partitions of the target table, one per hour, day,
 * month or year of the batch's time, the event's time, a date column of the row, or the apply's
 * time. A missing partition is created with londiste.create_partition (a child inheriting from
 * the target, or a native partition of a target that is PARTITION BY RANGE on the date column).
 * The events of each partition are applied set-based, as tables without a handler are; a
 * TRUNCATE empties the target with all its partitions. The initial copy goes into the target
 * table itself, as upstream's does.
 */
import { catalog, SkytoolsError } from '@skytools/core';
import type { Handler, HandlerApplyContext, HandlerArgs } from './handler.js';
import {
  createPartition,
  EVERY_NET_ROW,
  filingTimeSql,
  firstEventWithNull,
  inPeriodSql,
  NO_NET_ROW,
  rowEventsSql,
  stagedNonRowEvents,
  stagedPeriods,
  truncateWithPartitions,
  type StagedPeriod,
} from '../sql/handler-statements.js';

const PERIODS = ['hour', 'day', 'month', 'year'] as const;
const PART_MODES = ['batch_time', 'event_time', 'date_field', 'current_time'] as const;
/** londiste's TRUNCATE event type. */
const TRUNCATE = 'R';

interface DispatchConf {
  tableMode: string;
  partMode: string;
  partField: string | undefined;
  period: string;
  partName: string | undefined;
  ops: string[];
  ignoreTruncate: boolean;
}

/** The arguments, checked together (each alone is checked by the registry). */
export function dispatchConf(args: HandlerArgs): DispatchConf {
  const partMode = args['part_mode'] ?? 'batch_time';
  const partField = args['part_field'];
  if (partMode === 'date_field' && (partField === undefined || partField === '')) throw new SkytoolsError('handler dispatch: part_mode=date_field needs part_field=COLUMN');
  const ops = (args['event_types'] ?? 'I,U,D').split(',').map((o) => o.trim().toUpperCase()).filter((o) => o !== '');
  const bad = ops.filter((o) => !['I', 'U', 'D'].includes(o));
  if (bad.length > 0 || ops.length === 0) throw new SkytoolsError(`handler dispatch: event_types=${args['event_types'] ?? ''} must list some of I, U, D`);
  const partName = args['part_name'];
  if (partName !== undefined) {
    const unknown = [...partName.matchAll(/%\((\w+)\)s/g)].map((m) => m[1]).filter((v) => !['parent', 'year', 'month', 'day', 'hour'].includes(v ?? ''));
    if (unknown.length > 0) throw new SkytoolsError(`handler dispatch: part_name may use %(parent)s, %(year)s, %(month)s, %(day)s and %(hour)s, not %(${unknown.join(')s, %(')})s`);
  }
  return {
    tableMode: args['table_mode'] ?? 'part',
    partMode,
    partField,
    period: args['period'] ?? 'day',
    partName,
    ops,
    ignoreTruncate: args['ignore_truncate'] === '1',
  };
}

/** A partition's name: part_name's template, or the parent's name and the period's date parts. */
export function partitionName(conf: DispatchConf, parent: string, p: StagedPeriod): string {
  const parts: Record<string, string> = { parent, year: p.year, month: p.month, day: p.day, hour: p.hour };
  if (conf.partName !== undefined) return conf.partName.replace(/%\((\w+)\)s/g, (_, k: string) => parts[k] ?? '');
  const upTo = ['year', 'month', 'day', 'hour'].slice(0, PERIODS.length - PERIODS.indexOf(conf.period as (typeof PERIODS)[number]));
  return [parent, ...upTo.map((k) => parts[k] ?? '')].join('_');
}

/**
 * Apply the row events of `where` to their partitions, creating those missing. First every key
 * the events touch is deleted from the target and all its partitions (the parent pass): a row
 * may sit in the parent (copied there) or in another partition (filed by an earlier event's time,
 * or its date changed). Then each key's last row goes into the partition of its last event.
 */
async function dispatchRows(ctx: HandlerApplyContext, conf: DispatchConf, where: string): Promise<void> {
  const eventKey = filingTimeSql(conf.partMode, conf.partField, ctx.tickTime, 'event');
  const rowKey = filingTimeSql(conf.partMode, conf.partField, ctx.tickTime, 'net');
  // the stage holds the whole batch: ctx.events keeps the range's events of this table only
  const missing = await firstEventWithNull(ctx.client, ctx.events, where, eventKey);
  if (missing !== null) throw new SkytoolsError(`event ${missing}: ${conf.partMode === 'date_field' ? `part_field ${conf.partField ?? ''} is NULL` : 'no time to file it under'}`);
  const native = await catalog.isPartitioned(ctx.client, ctx.dest);
  if (native && conf.partMode !== 'date_field') {
    throw new SkytoolsError(`${ctx.dest} is partitioned by PostgreSQL itself (PARTITION BY): rows go by its partition key, so give part_mode=date_field part_field=KEY_COLUMN`);
  }
  // the periods of rows that stay (a deleted row needs no partition)
  const periods = await stagedPeriods(ctx.client, ctx.events, where, eventKey, conf.period);
  for (const p of periods) {
    await createPartition(ctx.client, ctx.dest, partitionName(conf, ctx.dest, p), [], conf.partMode === 'date_field' ? (conf.partField ?? '') : '', p.start, conf.period);
  }
  // the parent pass: no net row is kept, so every key is deleted (no ONLY: with the partitions)
  await ctx.applyRows(ctx.dest, where, NO_NET_ROW);
  if (native) {
    // PostgreSQL routes each row to its partition
    await ctx.applyRows(ctx.dest, where, EVERY_NET_ROW);
    return;
  }
  for (const p of periods) {
    await ctx.applyRows(partitionName(conf, ctx.dest, p), where, inPeriodSql(rowKey, conf.period, p.start));
  }
}

async function runDispatch(ctx: HandlerApplyContext, conf: DispatchConf): Promise<void> {
  let after: string | null = null;
  const segment = (before: string | null): string => rowEventsSql(conf.ops, after, before);
  const apply = (where: string): Promise<void> => (conf.tableMode === 'direct' ? ctx.applyRows(ctx.dest, where) : dispatchRows(ctx, conf, where));
  // row events in order around the TRUNCATEs among them
  for (const ev of await stagedNonRowEvents(ctx.client, ctx.events)) {
    if (ev.type !== TRUNCATE) {
      throw new SkytoolsError(`event ${ev.id} (${ev.type}) is an SQL statement event (sqltriga): handler dispatch applies row events (logutriga, jsontriga); capture the table with one of those`);
    }
    await apply(segment(ev.id));
    if (!conf.ignoreTruncate) await truncateWithPartitions(ctx.client, ctx.dest);
    after = ev.id;
  }
  await apply(segment(null));
}

const ARGS = {
  table_mode: { describe: 'part: into time partitions (default); direct: into the table itself; ignore: drop the events', values: ['part', 'direct', 'ignore'] },
  part_mode: { describe: 'what time files an event: batch_time (the batch\'s tick, default), event_time, date_field (part_field of the row), current_time (the apply\'s)', values: [...PART_MODES] },
  part_field: { describe: 'the row\'s date/time column (part_mode=date_field)' },
  period: { describe: 'one partition per hour, day (default), month or year', values: [...PERIODS] },
  part_name: { describe: 'partition name template: %(parent)s, %(year)s, %(month)s, %(day)s, %(hour)s (default: parent_YYYY_MM_DD, down to the period)' },
  row_mode: { describe: 'plain (default) or keep_latest: both apply the net effect per key (an update replaces the row)', values: ['plain', 'keep_latest'] },
  event_types: { describe: 'the row events applied, some of I,U,D (default all); the others are left out' },
  load_mode: { describe: 'direct or bulk: accepted, both apply set-based', values: ['direct', 'bulk'] },
  ignore_truncate: { describe: '1: a TRUNCATE of the source leaves the target as it is', values: ['0', '1'] },
};

export const dispatchHandler: Handler = {
  name: 'dispatch',
  describe:
    'File the table\'s rows into time partitions of the target (hourly, daily, monthly, yearly by batch time,\n' +
    'event time or a date column), created as needed with londiste.create_partition; a target\n' +
    'partitioned by PostgreSQL (PARTITION BY RANGE on the date column) gets native partitions.',
  args: ARGS,
  needsTable: true,
  copy: 'full',
  copyEmptiesChildren: true,
  checkNode: (args) => {
    dispatchConf(args);
    return Promise.resolve();
  },
  apply: (args) => {
    const conf = dispatchConf(args);
    if (conf.tableMode === 'ignore') return { kind: 'ignore' };
    return { kind: 'custom', run: (ctx) => runDispatch(ctx, conf) };
  },
};

/**
 * Upstream's fixed variants: PERIOD_MODE (hourly_event, daily_batch, monthly_field, yearly_time,
 * ...), the same with bulk_, and bulk_direct (table_mode=direct). Their fixed arguments cannot be
 * given again.
 */
export function dispatchVariants(): Handler[] {
  const periods: Record<string, string> = { hourly: 'hour', daily: 'day', monthly: 'month', yearly: 'year' };
  const modes: Record<string, string> = { event: 'event_time', batch: 'batch_time', field: 'date_field', time: 'current_time' };
  const variant = (name: string, fixed: Record<string, string>): Handler => {
    const args = Object.fromEntries(Object.entries(ARGS).filter(([k]) => !(k in fixed)));
    return {
      ...dispatchHandler,
      name,
      describe: `dispatch with ${Object.entries(fixed).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      args,
      checkNode: (a) => {
        dispatchConf({ ...a, ...fixed });
        return Promise.resolve();
      },
      apply: (a) => dispatchHandler.apply({ ...a, ...fixed }),
    };
  };
  const out: Handler[] = [];
  for (const bulk of ['', 'bulk_']) {
    for (const [p, period] of Object.entries(periods)) {
      for (const [m, mode] of Object.entries(modes)) out.push(variant(`${bulk}${p}_${m}`, { period, part_mode: mode }));
    }
  }
  out.push(variant('bulk_direct', { table_mode: 'direct' }));
  return out;
}
