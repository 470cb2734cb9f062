/**
 * The replication worker of one job (DESIGN §5). Per batch: next_batch on the provider, events
 * through a cursor, applied on the local node in one transaction that also records the
 * completed tick, commit, then finish_batch on the provider. A crash anywhere neither loses nor
 * duplicates: a batch whose tick is already recorded locally is only finished on the provider.
 * Branches also re-publish the events in their own queue and tick it. The root only publishes
 * watermarks and sequence positions. Idle workers sleep until a tick notification (LISTEN) or
 * loop_delay, whichever comes first.
 */
import type pg from 'pg';
import {
  connect,
  describeError,
  finishBatch,
  maskSecrets,
  quoteLiteral,
  nextBatch,
  readBatchEvents,
  SkytoolsError,
  TickWaiter,
  TxidSnapshot,
  type Logger,
} from '@skytools/core';
import type { JobConfig } from '../job-config.js';
import { BatchApplier } from '../replay/batch-applier.js';
import { QueueCopier } from '../replay/queue-copier.js';
import { copyTable } from '../replay/table-copy.js';
import { loadTableStates, needsCopy } from '../replay/table-state.js';
import { CopyScheduler, createCopyLimiter, type CopyLimiter } from './copy-scheduler.js';
import { JobLock } from './job-lock.js';

/** Longest sleep of an idle worker whose provider announces ticks (NOTIFY pgq_tick). */
const IDLE_BACKOFF_MAX_MS = 30_000;

/** Batches estimated at no more events than this are read in one query rather than a cursor. */
const SMALL_BATCH = 5000;

interface ConsumerState {
  node_type: string;
  node_name: string;
  completed_tick: string | null;
  provider_node: string | null;
  provider_location: string | null;
  paused: boolean;
  uptodate: boolean;
  cur_error: string | null;
}

export interface WorkerOptions {
  /** Limiter shared by all jobs of a supervisor; a private one (parallel_copies) when absent. */
  copyLimiter?: CopyLimiter;
  /** How often the root publishes the global watermark (sequences are checked every loop_delay). */
  rootDutyEveryMs?: number;
  /** How often a subscriber reports its local watermark to the provider. */
  watermarkEveryMs?: number;
}

export class ReplicationWorker {
  private db: pg.Client | undefined;
  private provider: pg.Client | undefined;
  private providerLocation: string | null = null;
  private waiter: TickWaiter | undefined;
  private applier: BatchApplier | undefined;
  private readonly copies: CopyScheduler;
  private readonly copyAbort = new AbortController();
  private lastRootDuty = 0;
  private lastWatermark = 0;
  private wake: (() => void) | undefined;
  /** A wake-up arrived while not idle: the next idle() returns at once. */
  private wakePending = false;
  /** Rounds in a row without a batch. */
  private idleRounds = 0;
  private errorRecorded = false;
  batches = 0;
  events = 0;

  constructor(
    private readonly job: JobConfig,
    private readonly log: Logger,
    private readonly options: WorkerOptions = {},
  ) {
    this.copies = new CopyScheduler(job.parallel_copies, options.copyLimiter ?? createCopyLimiter(job.parallel_copies), log, (table, ok) => {
      if (ok) this.log.debug(`copy of ${table} done`);
      this.wake?.();
    });
  }

  private get queue(): string {
    return this.job.queue_name;
  }

  private get consumer(): string {
    return this.job.job_name;
  }

  private async local(): Promise<pg.Client> {
    if (this.db === undefined) {
      const db = await connect(this.job.db, { name: 'db', logger: this.log, applicationName: `londiste ${this.job.job_name}` });
      // add-table and resync on this node announce themselves: copies start at once
      db.on('notification', (msg) => {
        if (msg.channel === 'londiste_tables' && msg.payload === this.queue) {
          this.wakePending = true;
          this.wake?.();
        }
      });
      await db.query('LISTEN londiste_tables');
      this.db = db;
      this.applier = new BatchApplier(db, this.queue, this.log);
    }
    return this.db;
  }

  private async providerDb(location: string): Promise<pg.Client> {
    if (this.provider !== undefined && this.providerLocation === location) return this.provider;
    await this.closeProvider();
    this.provider = await connect(location, { name: 'provider_db', logger: this.log, applicationName: `londiste ${this.job.job_name}` });
    this.providerLocation = location;
    this.waiter = await TickWaiter.listen(this.provider, this.queue);
    return this.provider;
  }

  private async closeProvider(): Promise<void> {
    const p = this.provider;
    this.provider = undefined;
    this.providerLocation = null;
    this.waiter = undefined;
    await p?.end().catch(() => undefined);
  }

  /** Drop every connection (after an error: the next round starts clean). */
  async closeAll(): Promise<void> {
    await this.closeProvider();
    const d = this.db;
    this.db = undefined;
    this.applier = undefined;
    await d?.end().catch(() => undefined);
  }

  /** Sleep until a tick, a finished copy, shutdown, or the timeout. */
  private async idle(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (this.wakePending) {
      this.wakePending = false;
      return;
    }
    const wakeUp = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    const tick = this.waiter?.wait(ms, signal) ?? new Promise<void>((r) => setTimeout(r, ms));
    const aborted = new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    await Promise.race([tick, wakeUp, aborted]);
    this.wake = undefined;
  }

  private async state(db: pg.Client): Promise<ConsumerState> {
    const r = await db.query<ConsumerState & { ret_code: number; ret_note: string }>(
      `SELECT s.*, n.node_type, n.node_name FROM pgq_node.get_consumer_state($1, $2) s, pgq_node.get_node_info($1) n`,
      [this.queue, this.consumer],
    );
    const row = r.rows[0];
    if (row === undefined || row.ret_code >= 400) {
      throw new SkytoolsError(`job ${this.consumer}: ${row?.ret_note ?? 'no consumer state'} (queue ${this.queue}); is the node created (create-root/-branch/-leaf) with this job name?`);
    }
    return row;
  }

  /** Run until the signal is aborted; errors are recorded on the node and retried with back-off. */
  async run(signal: AbortSignal): Promise<void> {
    const lock = await JobLock.acquire(this.job.db, this.queue, this.job.job_name, this.log);
    try {
      await this.loop(signal);
    } finally {
      await lock.release();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let backoff = 1000;
    signal.addEventListener('abort', () => this.copyAbort.abort(), { once: true });
    this.log.info(`Job ${this.job.job_name} started (queue ${this.queue})`);
    while (!signal.aborted) {
      try {
        await this.step(signal);
        backoff = 1000;
      } catch (err) {
        if (signal.aborted) break;
        const msg = maskSecrets(describeError(err));
        this.log.error(`Job ${this.job.job_name} got error: ${msg}`);
        await this.recordError(msg);
        await this.closeAll();
        await new Promise<void>((r) => {
          const t = setTimeout(r, backoff);
          signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
        });
        backoff = Math.min(backoff * 2, 60_000);
      }
    }
    await this.copies.drain();
    await this.closeAll();
    this.log.info(`Job ${this.job.job_name} stopped after ${this.batches} batches, ${this.events} events`);
  }

  private async recordError(msg: string): Promise<void> {
    try {
      const c = await connect(this.job.db, { name: 'db', logger: this.log });
      try {
        await c.query('SELECT * FROM pgq_node.set_consumer_error($1, $2, $3)', [this.queue, this.consumer, msg]);
        this.errorRecorded = true;
      } finally {
        await c.end();
      }
    } catch {
      this.log.warning('Failure to call pgq_node.set_consumer_error()');
    }
  }

  /** One round: at most one batch. */
  async step(signal: AbortSignal): Promise<void> {
    const db = await this.local();
    const st = await this.state(db);
    if (!st.uptodate) await db.query('SELECT * FROM pgq_node.set_consumer_uptodate($1, $2, true)', [this.queue, this.consumer]);
    if (st.cur_error !== null && this.errorRecorded) {
      await db.query('SELECT * FROM pgq_node.set_consumer_error($1, $2, NULL)', [this.queue, this.consumer]);
      this.errorRecorded = false;
    }
    if (st.paused) {
      await this.idle(this.job.loop_delay, signal);
      return;
    }
    if (st.node_type === 'root') {
      await this.rootDuties(db);
      await this.idle(this.job.loop_delay, signal);
      return;
    }
    if (st.provider_location === null) throw new SkytoolsError(`node ${st.node_name} has no provider location`);
    const provider = await this.providerDb(st.provider_location);
    const isBranch = st.node_type === 'branch';

    const t0 = performance.now();
    // a branch re-publishes every tick of its provider, so it takes them one by one
    const batch = await nextBatch(provider, this.queue, this.consumer, isBranch ? 0 : this.job.batch_merge_events);
    const tables = await loadTableStates(db, this.queue);
    this.scheduleCopies(tables, st.provider_location);
    if (batch === null) {
      // an idle queue backs off: a provider that announces its ticks wakes the worker anyway
      const heard = this.waiter?.heard === true;
      this.idleRounds = heard ? this.idleRounds + 1 : 0;
      const delay = this.job.loop_delay * 2 ** Math.min(Math.max(this.idleRounds - 1, 0), 10);
      await this.idle(Math.max(this.job.loop_delay, Math.min(delay, IDLE_BACKOFF_MAX_MS)), signal);
      return;
    }
    this.idleRounds = 0;
    if (st.completed_tick === batch.curTickId) {
      // applied before a crash, not finished on the provider yet
      if (isBranch) await this.ensureBranchTick(db, batch.curTickId, batch.curTickTime, batch.curTickEventSeq);
      await finishBatch(provider, batch.batchId);
      return;
    }
    if (st.completed_tick !== batch.prevTickId) {
      throw new SkytoolsError(`Lost position: batch ${batch.prevTickId}..${batch.curTickId}, dst has ${st.completed_tick ?? 'NULL'}`);
    }

    const curSnap = batch.curTickSnapshot === null ? null : TxidSnapshot.parse(batch.curTickSnapshot);
    const applier = this.applier ?? new BatchApplier(db, this.queue, this.log);
    const copier = isBranch ? new QueueCopier(db, this.queue) : undefined;
    let count = 0;
    const applyBefore = applier.applyMs;
    const t1 = performance.now();
    let t2 = t1;
    await db.query(`BEGIN; SET LOCAL session_replication_role = 'replica'`);
    try {
      applier.begin(tables);
      // a second connection streams the batch while this one applies it
      const estimate = Number(batch.curTickEventSeq) - Number(batch.prevTickEventSeq);
      for await (const chunk of readBatchEvents(provider, batch.batchId, this.job.pgq_lazy_fetch, estimate <= SMALL_BATCH)) {
        for (const ev of chunk) {
          await applier.process(ev);
          copier?.add(ev);
        }
        count += chunk.length;
        if (copier !== undefined && copier.size >= 10000) await copier.flush();
      }
      await copier?.flush();
      t2 = performance.now();
      const nowOk = await applier.finish(curSnap);
      // one round trip: no parameters in a multi-statement query, hence the literals
      await db.query(
        `SELECT * FROM pgq_node.set_consumer_completed(${quoteLiteral(this.queue)}, ${quoteLiteral(this.consumer)}, ${quoteLiteral(batch.curTickId)}); COMMIT`,
      );
      for (const t of nowOk) this.log.info(`${t}: in sync (ok)`);
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      applier.reset();
      throw err;
    }
    const t3 = performance.now();
    if (isBranch) await this.ensureBranchTick(db, batch.curTickId, batch.curTickTime, batch.curTickEventSeq);
    await finishBatch(provider, batch.batchId);
    this.batches += 1;
    this.events += count;
    const s = applier.stats;
    if (count > 0) {
      const ms = (a: number, b: number): string => (b - a).toFixed(0);
      this.log.debug(
        `batch ${batch.batchId} (tick ${batch.curTickId}): ${count} events, ${s.applied} applied, ${s.backlogged} kept for copy, ${s.skipped} skipped; ` +
          `ms: open ${ms(t0, t1)}, read+apply ${ms(t1, t2)} (stage ${ms(applyBefore.copy, applier.applyMs.copy)}, sql ${ms(applyBefore.sql, applier.applyMs.sql)}), ` +
          `finish+commit ${ms(t2, t3)}, close ${ms(t3, performance.now())}`,
      );
    }
    await this.publishWatermark(db, provider, st.node_name);
  }

  /** The branch's own tick for the batch just applied: after commit, so it covers the batch's events. */
  private async ensureBranchTick(db: pg.Client, tickId: string, tickTime: Date, eventSeq: string): Promise<void> {
    const r = await db.query<{ t: string | null }>(
      `SELECT max(t.tick_id)::text AS t FROM pgq.tick t JOIN pgq.queue q ON q.queue_id = t.tick_queue WHERE q.queue_name = $1`,
      [this.queue],
    );
    if (r.rows[0]?.t === tickId) return;
    await db.query('SELECT pgq.ticker($1, $2, $3, $4)', [this.queue, tickId, tickTime, eventSeq]);
  }

  private async rootDuties(db: pg.Client): Promise<void> {
    // sequences at every round: root_check_seqs publishes a position ahead of the real one,
    // and only needs to publish again once the real one comes near it
    await db.query('SELECT * FROM londiste.root_check_seqs($1)', [this.queue]);
    const every = this.options.rootDutyEveryMs ?? 30_000;
    if (Date.now() - this.lastRootDuty < every) return;
    this.lastRootDuty = Date.now();
    await db.query('SELECT * FROM pgq_node.set_global_watermark($1, NULL)', [this.queue]);
  }

  private async publishWatermark(db: pg.Client, provider: pg.Client, nodeName: string): Promise<void> {
    const every = this.options.watermarkEveryMs ?? 30_000;
    if (Date.now() - this.lastWatermark < every) return;
    this.lastWatermark = Date.now();
    const r = await db.query<{ wm: string | null }>('SELECT local_watermark::text AS wm FROM pgq_node.get_node_info($1)', [this.queue]);
    const wm = r.rows[0]?.wm ?? null;
    if (wm !== null) await provider.query('SELECT * FROM pgq_node.set_subscriber_watermark($1, $2, $3)', [this.queue, nodeName, wm]);
  }

  private scheduleCopies(tables: Awaited<ReturnType<typeof loadTableStates>>, providerLocation: string): void {
    const todo = [...tables.values()].filter(needsCopy).map((t) => t.name);
    if (todo.length === 0) return;
    this.copies.offer(
      todo,
      async (name) => {
        // own connections: the main loop's are busy with batches
        const db = await connect(this.job.db, { name: 'db', logger: this.log });
        const provider = await connect(providerLocation, { name: 'provider_db', logger: this.log });
        try {
          const fresh = (await loadTableStates(db, this.queue)).get(name);
          if (fresh === undefined || !needsCopy(fresh)) return;
          const src = (await loadTableStates(provider, this.queue)).get(name);
          this.log.info(`${name}: starting copy${fresh.dest !== name ? ` into ${fresh.dest}` : ''}`);
          await copyTable({
            queue: this.queue,
            table: fresh,
            sourceName: src?.dest ?? name,
            providerConnstr: providerLocation,
            localConnstr: this.job.db,
            log: this.log,
            signal: this.copyAbort.signal,
            onCommitted: async () => {
              // a tick now lets the table reach 'ok' without waiting for the next scheduled one
              await provider.query('SELECT pgq.force_tick($1)', [this.queue]).catch(() => undefined);
              await provider.query('SELECT pgq.ticker($1)', [this.queue]).catch(() => undefined);
            },
          });
        } finally {
          await db.end().catch(() => undefined);
          await provider.end().catch(() => undefined);
        }
      },
      30_000,
    );
  }
}
