/**
 * The replication worker of one job (docs/architecture.md): a loop of rounds, each handling at
 * most one batch. Errors are recorded on the node and retried on fresh connections with back-off;
 * an idle worker sleeps until a tick, an add-table/resync, a finished copy, or its timeout.
 */
import { Backoff, describeError, maskSecrets, pgDiagnostics, pgq, pgqNode, SkytoolsError, SQLSTATE, WakeLatch, type Logger, type TickHub, type WorkerState } from '@skytools/core';
import type pg from 'pg';
import type { JobConfig } from '../job-config.js';
import { loadTableStates } from '../replay/table-state.js';
import { BatchProcessor } from './batch-processor.js';
import { loadHandlerModules } from '../handlers/handler-modules.js';
import { CopyScheduler, createCopyLimiter, type CopyLimiter } from './copy-scheduler.js';
import { ErrorRecorder } from './error-recorder.js';
import { JobLock } from './job-lock.js';
import { JobStats } from './job-stats.js';
import { RootDuties, WatermarkReporter } from './node-duties.js';
import { WorkerConnections } from './worker-connections.js';

/** Sleep of an idle job that gave its provider connection back (ticks with events still wake it). */
const RELEASED_IDLE_MS = 120_000;

/** The job's lock, the worker's local node and its provider: what pool_size counts first. */
const WORKER_CONNECTIONS = 3;

/** The job's pool_size: given, or room for its parallel_copies and the ANALYZE of copied tables. */
export function jobPoolSize(job: Pick<JobConfig, 'pool_size' | 'parallel_copies'>): number {
  return job.pool_size ?? WORKER_CONNECTIONS + 2 * job.parallel_copies + 1;
}

/** Longest sleep of an idle worker whose provider announces ticks (NOTIFY pgq_tick). */
const IDLE_BACKOFF_MAX_MS = 30_000;

export interface WorkerOptions {
  /** Limiter shared by all jobs of a supervisor; a private one (parallel_copies) when absent. */
  copyLimiter?: CopyLimiter;
  /** How often the root publishes the global watermark (sequences are checked every round). */
  rootDutyEveryMs?: number;
  /** How often a subscriber reports its local watermark to the provider. */
  watermarkEveryMs?: number;
  /** londisted's shared tick listeners (one connection per provider database). */
  tickHub?: TickHub;
  /** Where the worker reports its rounds, batches and copies (londisted keeps it across restarts). */
  stats?: JobStats;
}

export class ReplicationWorker {
  private readonly latch = new WakeLatch();
  private readonly conns: WorkerConnections;
  private readonly batches: BatchProcessor;
  private readonly copies: CopyScheduler;
  private readonly errors: ErrorRecorder;
  private readonly root: RootDuties;
  private readonly watermark: WatermarkReporter;
  /** Sleep of an idle worker: grows while nothing comes, once the provider is known to notify. */
  private readonly idle: Backoff;
  private batchCount = 0;
  private eventCount = 0;
  /** When the worker last had events to apply or a copy running. */
  private busyAt = performance.now();
  private readonly stats: JobStats;

  constructor(
    private readonly job: JobConfig,
    private readonly log: Logger,
    options: WorkerOptions = {},
  ) {
    const queue = job.queue_name;
    this.stats = options.stats ?? new JobStats(job.job_name);
    this.conns = new WorkerConnections(job.db, queue, `londiste ${job.job_name}`, log, this.latch, job.provider_timeout, options.tickHub);
    this.batches = new BatchProcessor(queue, job.job_name, log);
    const limiter = options.copyLimiter ?? createCopyLimiter(job.parallel_copies);
    this.copies = new CopyScheduler({
      queue,
      localConnstr: job.db,
      applicationName: `londiste ${job.job_name}`,
      perJob: job.parallel_copies,
      connections: jobPoolSize(job) - WORKER_CONNECTIONS,
      limiter,
      retryMaxMs: job.copy_retry_max,
      log,
      onDone: () => this.latch.wake(),
      stats: this.stats,
    });
    this.errors = new ErrorRecorder(job.db, queue, job.job_name, log);
    this.root = new RootDuties(queue, log, options.rootDutyEveryMs ?? 30_000);
    this.watermark = new WatermarkReporter(queue, log, options.watermarkEveryMs ?? 30_000);
    this.idle = new Backoff(job.loop_delay, Math.max(job.loop_delay, IDLE_BACKOFF_MAX_MS));
  }

  /** Run until the signal is aborted; one running copy per job (advisory lock on the node). */
  async run(signal: AbortSignal): Promise<void> {
    await loadHandlerModules(this.job.handler_modules ?? [], this.job.file);
    const lock = await JobLock.acquire(this.job.db, this.job.queue_name, this.job.job_name, this.log);
    this.stats.up = true;
    this.stats.standby = false;
    try {
      await this.loop(signal);
    } finally {
      this.stats.up = false;
      await lock.release();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(1000, 60_000);
    this.log.info(`Job ${this.job.job_name} started (queue ${this.job.queue_name})`);
    while (!signal.aborted) {
      try {
        await this.round(signal);
        await this.errors.clear(await this.conns.local());
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        const hint = pgDiagnostics(err).code === SQLSTATE.insufficientPrivilege ? `; see what this job's users lack with: londiste ${this.job.file} check-privileges` : '';
        const msg = maskSecrets(describeError(err)) + hint;
        this.log.error(`Job ${this.job.job_name} got error: ${msg}`);
        this.stats.failed(msg);
        // closed first: recording takes a connection of its own, within the job's pool
        await this.conns.closeAll();
        await this.errors.record(msg);
        this.batches.reset();
        await backoff.wait(signal);
      }
    }
    await this.copies.stop();
    await this.conns.closeAll();
    this.log.info(`Job ${this.job.job_name} stopped after ${this.batchCount} batches, ${this.eventCount} events`);
  }

  /** One round: the node's state, then root duties, or at most one batch from the provider. */
  private async round(signal: AbortSignal): Promise<void> {
    const db = await this.conns.local();
    const st = await this.state(db);
    if (!st.uptodate) await pgqNode.setConsumerUptodate(db, this.log, this.job.queue_name, this.job.job_name, true);
    this.errors.seen(st.cur_error);
    this.stats.seenNode({ queue: this.job.queue_name, name: st.node_name, type: st.node_type, provider: st.node_type === 'root' ? null : st.provider_node, paused: st.paused });
    if (st.paused) {
      this.batches.forgetReadAhead();
      return this.sleep(this.job.loop_delay, signal);
    }
    if (st.node_type === 'root') {
      await this.root.run(db);
      this.stats.seenTables((await loadTableStates(db, this.job.queue_name)).values());
      return this.sleep(this.job.loop_delay, signal);
    }
    if (st.provider_location === null) throw new SkytoolsError(`node ${st.node_name} has no provider location`);
    const provider = await this.conns.providerAt(st.provider_location);
    const isBranch = st.node_type === 'branch';
    const combinedQueue = this.combinedQueue(st);
    // a branch re-publishes every tick of its provider, so it takes them one by one
    const mergeEvents = isBranch ? 0 : this.job.batch_merge_events;
    const batch = await pgq.nextBatch(provider, this.job.queue_name, this.job.job_name, mergeEvents);
    const tables = await loadTableStates(db, this.job.queue_name);
    this.stats.seenTables(tables.values());
    await this.copies.learnSizes(provider, tables);
    this.copies.offer(tables, st.provider_location, st.completed_tick);
    if (this.copies.busy) this.busyAt = performance.now();
    if (batch === null) return this.rest(signal);
    this.stats.batchStarted();
    const events = await this.batches.process(
      { db, provider, isBranch, combinedQueue, completedTick: st.completed_tick, tables, node: st.node_name, mergeEvents, readAhead: this.job.read_ahead },
      batch,
    );
    // compare or repair is reading a table of this node: the batch waits
    if (events === 'frozen') return this.sleep(this.job.loop_delay, signal);
    this.eventCount += events;
    this.batchCount += 1;
    this.stats.batchDone(events, batch.curTickId, batch.curTickLocalTime);
    await this.watermark.report(db, provider, st.node_name);
    // Only a batch with events ends an idle spell. Empty ticks (another job's copy ended with a
    // quiet tick, a tick after ticker_idle_period) keep the backoff growing: the next batch spans
    // all of them, instead of a hundred idle jobs of a londisted each taking every tick in turn.
    if (events > 0) {
      this.busyAt = performance.now();
      this.idle.reset();
      return;
    }
    this.log.debug(`batch ${batch.batchId}: no events (ticks ${batch.prevTickId}..${batch.curTickId})`);
    // An empty merged batch that reached the provider's last tick: the job is idle. Going round
    // again at once would take each new empty tick as its own batch (quiet ticks of other jobs'
    // copies come several a second while a londisted syncs a hundred jobs, faster than a round
    // under that load, so such a job never slept). Ticks with events, and this job's own copies,
    // wake it. A merged batch also stops short of a tick whose events would pass
    // batch_merge_events: a job behind goes on at once then (it rested 30 s per empty batch).
    if (batch.merged && (await pgq.lastTickId(provider, this.job.queue_name)) === batch.curTickId) await this.rest(signal);
  }

  /** Nothing to do for now: sleep, longer each time while the provider announces its ticks. */
  private async rest(signal: AbortSignal): Promise<void> {
    this.stats.idle();
    this.batches.forgetReadAhead();
    // an idle queue backs off, as far as the provider wakes the worker by NOTIFY anyway
    if (!this.conns.providerNotifies) this.idle.reset();
    // under londisted (ticks heard through its TickHub) an idle job needs no provider
    // connection until the next tick: a hundred idle leaf jobs hold none on their root
    const release = this.job.provider_idle_release;
    if (release > 0 && performance.now() - this.busyAt >= release) await this.conns.releaseProvider();
    // without its provider connection the job still hears every tick that carries events; it
    // reconnects only now and then to move past idle ticks (a hundred idle jobs reconnecting
    // every 30 s cost londisted 6 % of a core)
    return this.sleep(this.conns.providerReleased ? RELEASED_IDLE_MS : this.idle.take(), signal);
  }

  /** A merge leaf's combined queue (a root on the same database), or null for any other node. */
  private combinedQueue(st: WorkerState): string | null {
    if (st.combined_queue === null) return null;
    if (st.node_type === 'leaf' && st.combined_type === 'root') return st.combined_queue;
    throw new SkytoolsError(
      `node ${st.node_name} (${st.node_type}) merges into queue ${st.combined_queue} whose node here is a ${st.combined_type ?? 'missing node'}: only a leaf merging into a combined root is implemented; the worker stops here`,
    );
  }

  private async state(db: pg.ClientBase): Promise<WorkerState> {
    const st = await pgqNode.getWorkerState(db, this.job.queue_name, this.job.job_name);
    if (st === undefined || st.ret_code >= 400) {
      throw new SkytoolsError(
        `job ${this.job.job_name}: ${st?.ret_note ?? 'no consumer state'} (queue ${this.job.queue_name}); is the node created (create-root/-branch/-leaf) with this job name?`,
      );
    }
    return st;
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const why = await this.latch.wait(ms, signal);
    if (this.log.isDebugEnabled()) this.log.debug(`idle ${String(ms)} ms: ${why}`);
  }
}
