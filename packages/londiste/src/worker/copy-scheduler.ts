/**
 * Launches the initial copies of a job: the tables that need one are offered each round; at most
 * `parallel_copies` of the job run at once, and through a limiter shared across jobs (londisted's
 * max_parallel_copy). A table is never copied twice at the same time; a failed copy is retried
 * after 2 s, then twice as long after each failure, up to `retryMaxMs`. Copies use connections of
 * their own (the worker's are busy with batches), two each, counted against the job's pool_size
 * with the one the copied tables' ANALYZE takes (see analyzeSoon).
 */
import PQueue from 'p-queue';
import type pg from 'pg';
import { catalog, connect, describeError, formatDuration, londisteSql, maskSecrets, parseConnstr, pgq, session, SkytoolsError, type Logger } from '@skytools/core';
import { copyTable, type CopyMode } from '../replay/table-copy.js';
import type { JobStats } from './job-stats.js';
import { CopySourceNotReady, openCopySource, type CopySource } from './copy-source.js';
import { analyze, restoreStructure } from '../sql/copy-statements.js';
import { checkTableAttrs, loadTableStates, needsCopy, needsStructureBack, setTableState, tableHandler, type TableState } from '../replay/table-state.js';

export type CopyLimiter = PQueue;

/** How often to look again at a provider that is still copying a table itself. */
const PROVIDER_WAIT_MS = 1000;

/** The wait before the first retry of a failed copy. */
const FIRST_RETRY_MS = 2000;

/**
 * The longest the ANALYZE of a copied table waits for the job's other copies to end (see
 * analyzeSoon).
 */
const ANALYZE_WAIT_MS = 30_000;

/** How a table's copy goes, by its copy role (londiste._coordinate_copy); 'wait': not yet. */
function copyMode(role: string | null): CopyMode | 'wait' {
  switch (role) {
    case null:
      return 'alone';
    case 'lead':
      return 'lead';
    case 'wait-replay':
      return 'join';
    case 'wait-copy':
      return 'wait';
    default:
      throw new SkytoolsError(`unknown copy role ${role}: this worker does not know how to copy the table`);
  }
}

/** Does a connection string set application_name (which then wins over the one connect() is given)? */
function namesItself(connstr: string): boolean {
  return parseConnstr(connstr)['application_name'] !== undefined;
}

export function createCopyLimiter(concurrency: number): CopyLimiter {
  return new PQueue({ concurrency: Math.max(1, concurrency) });
}

export interface CopySchedulerOptions {
  queue: string;
  localConnstr: string;
  /** The job's application_name; its copies' connections add `copy TABLE`. */
  applicationName: string;
  perJob: number;
  /**
   * Connections the job's copies may hold at once (what pool_size leaves after the worker's
   * own): two per running copy, one for the ANALYZE of copied tables.
   */
  connections: number;
  limiter: CopyLimiter;
  /** The longest wait between two tries of a failing copy. */
  retryMaxMs: number;
  log: Logger;
  /** Called when a copy ends (successfully or not), to wake the worker. */
  onDone: () => void;
  /** Where running copies show their progress. */
  stats?: JobStats;
}

export class CopyScheduler {
  private readonly running = new Map<string, Promise<void>>();
  /** Table → when it may be tried again (after a failure, or while its provider is still copying it). */
  private readonly notBefore = new Map<string, number>();
  /** Tables whose provider has not finished its own copy yet (logged once). */
  private readonly waiting = new Set<string>();
  /** Table → failed copies in a row. */
  private readonly failures = new Map<string, number>();
  private readonly abort = new AbortController();
  /**
   * Table → the tick after which this worker has kept all its events (in the copy backlog) since
   * it first saw the table waiting for a copy: a copy from another node may be as old as that.
   */
  private readonly parkedSince = new Map<string, string>();
  /** Tables whose copy source made them wait (CopySourceNotReady, said once). */
  private readonly sourceWaits = new Set<string>();
  /** Tables taken by a running turn after the one it was started for. */
  private readonly inTurn = new Set<string>();
  /** Copied tables waiting for their ANALYZE, in the order copied, with when. */
  private readonly toAnalyze: { dest: string; at: number }[] = [];
  /** The ANALYZE of copied tables under way (on a connection of its own). */
  private analyzer: Promise<void> | undefined;
  private analyzeTimer: NodeJS.Timeout | undefined;
  /** Table → its size on the provider when first seen waiting for a copy: the biggest copy starts first. */
  private readonly sizes = new Map<string, number>();
  /** Whether the local schema records copy failures (londiste.get_table_errors exists). */
  private recordsErrors = false;

  constructor(private readonly o: CopySchedulerOptions) {}

  /**
   * Start copies of the tables that need one, as far as the limits allow. `completedTick`: the
   * tick this node has applied up to; the batch after it parks the events of tables not copied yet.
   */
  offer(tables: ReadonlyMap<string, TableState>, providerLocation: string, completedTick: string | null): void {
    for (const t of tables.values()) {
      if (!needsCopy(t)) {
        this.parkedSince.delete(t.name);
        this.sizes.delete(t.name);
      }
      else if (!this.parkedSince.has(t.name) && completedTick !== null) this.parkedSince.set(t.name, completedTick);
    }
    for (const t of this.biggestFirst(tables)) {
      const restore = needsStructureBack(t);
      if (!needsCopy(t) && !restore) continue;
      if (this.running.size >= this.o.perJob) return;
      if (this.connectionsHeld + 2 > this.o.connections) return;
      if (!this.mayStart(t)) continue;
      const p = this.o.limiter
        .add(() => (restore ? this.restore(t.name).then((outcome) => this.settle(t.name, outcome)) : this.turn(t.name, providerLocation)))
        .catch((err: unknown) => this.settle(t.name, err, restore ? 'putting back the structure' : 'copy'))
        .finally(() => {
          this.running.delete(t.name);
          this.o.onDone();
          this.analyzeSoon();
        });
      this.running.set(t.name, p);
    }
  }

  /**
   * Whether a copy of t may start now, with `others` copies of the job running besides it (in a
   * new slot: all that run; as the next of a turn: all but that turn).
   */
  private mayStart(t: TableState, others = this.running.size): boolean {
    if (this.running.has(t.name) || this.inTurn.has(t.name)) return false;
    // a table may ask that no more copies than this run while it is copied (upstream's attribute)
    const cap = Number(t.attrs['max_parallel_copy'] ?? Infinity);
    if (others >= cap) return false;
    return (this.notBefore.get(t.name) ?? 0) <= Date.now();
  }

  /**
   * What became of one table's copy (or putting back its structure): 'done', 'not-yet' (tried
   * again in a while) or the error it failed with (retried later, waiting longer each time).
   */
  private settle(name: string, outcome: unknown, what = 'copy'): void {
    if (outcome === 'done') {
      this.notBefore.delete(name);
      this.failures.delete(name);
      return;
    }
    if (outcome === 'not-yet') {
      this.notBefore.set(name, Date.now() + PROVIDER_WAIT_MS);
      // wake the worker to offer it again, however long it would sleep otherwise
      setTimeout(() => this.o.onDone(), PROVIDER_WAIT_MS).unref();
      return;
    }
    const n = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, n);
    const wait = Math.min(this.o.retryMaxMs, FIRST_RETRY_MS * 2 ** Math.min(n - 1, 20));
    this.notBefore.set(name, Date.now() + wait);
    // the worker sleeps up to loop_delay or longer when idle: it is woken for the retry
    setTimeout(() => this.o.onDone(), wait).unref();
    this.o.log.error(`${what} of ${name} failed (${String(n)} in a row; next try in ${formatDuration(wait)}): ${describeError(outcome)}`);
  }

  /**
   * A merged table every part of which has copied: the structure its lead part dropped is put
   * back (then the parts replay what waited for it), and the table analyzed.
   */
  private async restore(name: string): Promise<'done'> {
    if (this.abort.signal.aborted) return 'done';
    const { queue, log } = this.o;
    const db = await connect(this.o.localConnstr, { name: 'copy_dst', logger: log, applicationName: `${this.o.applicationName} restore ${name}` });
    try {
      const t = (await loadTableStates(db, queue)).get(name);
      if (t === undefined || !needsStructureBack(t) || t.droppedDdl === null) return 'done';
      log.info(`${name}: every part of merged table ${t.dest} has copied: putting back its constraints and indexes`);
      await session.withTransaction(db, async () => {
        await restoreStructure(db, t.droppedDdl ?? '');
        await londisteSql.localSetTableStruct(db, log, queue, name, null);
      });
      await analyze(db, t.dest);
      log.info(`${name}: structure of ${t.dest} back; its parts replay what waited`);
      return 'done';
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  /**
   * One turn of a copy slot: the table offered, then the job's next tables waiting for a copy,
   * one after the other on the same two connections. A tiny table's copy is mostly connection
   * set-up and the first calls of a fresh session; a job whose tables copy in one turn pays them
   * once. The turn ends at the first table that is not ready or fails, or when none is left;
   * the copied tables are analyzed later (analyzeSoon).
   */
  private async turn(first: string, providerLocation: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const { queue, log } = this.o;
    const applicationName = `${this.o.applicationName} copy`;
    // pg_stat_activity on both sides names the table at hand: the first from the connection's start
    const firstApp = `${applicationName} ${first}`;
    // both connections opened at once; its failure is handled where it is awaited below, and
    // until then it must not count as unhandled
    const providerConnecting = connect(providerLocation, { name: 'copy_src', logger: log, applicationName: firstApp });
    providerConnecting.catch(() => undefined);
    // the provider's connection when the turn ends before taking it: closed once it is open,
    // without holding up the turn's failure (a provider that does not answer may take its timeout);
    // meanwhile the slot is free again, so for that moment the job may hold one connection more
    // than pool_size
    const dropProvider = (): void => {
      void providerConnecting.then((c) => c.end(), () => undefined).catch(() => undefined);
    };
    const db = await connect(this.o.localConnstr, { name: 'copy_dst', logger: log, applicationName: firstApp }).catch((err: unknown) => {
      dropProvider();
      throw err;
    });
    let provider: Awaited<ReturnType<typeof connect>> | undefined;
    const copied: string[] = [];
    try {
      // asked until a turn finds it: a schema that records them keeps doing so
      this.recordsErrors ||= await londisteSql.recordsTableErrors(db);
      const records = this.recordsErrors;
      const recordFailure = async (name: string, err: unknown): Promise<void> => {
        // status and tables show it; a copy cut short by the job's stop is no failure
        if (!records || this.abort.signal.aborted) return;
        await londisteSql.setTableError(db, queue, name, maskSecrets(describeError(err))).catch((e: unknown) => log.warning(`${name}: could not record the copy failure: ${describeError(e)}`));
      };
      provider = await providerConnecting.catch(async (err: unknown) => {
        await recordFailure(first, err);
        throw err;
      });
      // the first table's name came with the connections, unless their strings name one themselves
      const ownName = { db: namesItself(this.o.localConnstr), provider: namesItself(providerLocation) };
      for (let name: string | undefined = first; name !== undefined && !this.abort.signal.aborted; ) {
        this.inTurn.add(name);
        try {
          const app = `${applicationName} ${name}`;
          await Promise.all([
            name !== first || ownName.db ? session.setApplicationName(db, app) : undefined,
            name !== first || ownName.provider ? session.setApplicationName(provider, app) : undefined,
          ]);
          const outcome = await this.copyWith(db, provider, name);
          if (records && outcome !== 'not-yet') {
            // the copy is committed: a failure to clear the record must not count as a failed copy
            await londisteSql.setTableError(db, queue, name, null).catch((e: unknown) => log.warning(`${name}: could not clear the recorded copy failure: ${describeError(e)}`));
          }
          if (typeof outcome === 'object') copied.push(outcome.copied);
          this.settle(name, outcome === 'not-yet' ? outcome : 'done');
          if (outcome === 'not-yet') break;
        } catch (err) {
          await recordFailure(name, err);
          if (!this.abort.signal.aborted) this.settle(name, err);
          break;
        } finally {
          this.inTurn.delete(name);
        }
        // the worker applies batches meanwhile: the copied table catches up while the next copies
        this.o.onDone();
        try {
          name = this.abort.signal.aborted ? undefined : await this.nextOfTurn(db);
        } catch (err) {
          // no table's failure: the turn ends, the tables left are offered again next round
          log.warning(`copies: could not look for the next table to copy (${describeError(err)}); the worker offers them again`);
          name = undefined;
        }
      }
    } finally {
      if (provider === undefined) dropProvider();
      else await provider.end().catch(() => undefined);
      const at = Date.now();
      for (const dest of copied) this.toAnalyze.push({ dest, at });
      // the job's only copy (this turn): its ANALYZE may start at once, on this turn's connection
      if (copied.length > 0 && this.running.size <= 1 && this.analyzer === undefined && !this.abort.signal.aborted) this.startAnalyzer({ db, turn: first });
      else await db.end().catch(() => undefined);
    }
  }

  /**
   * ANALYZE the copied tables (statistics for the planner of the apply statements), on a
   * connection of its own, once no other copy of the job runs, or when the oldest has waited
   * ANALYZE_WAIT_MS. Neither the tables (ok without statistics) nor the next copy wait for it;
   * and an ANALYZE beside a running copy took its CPU on a small machine (the 200k-row
   * user_session's, 130 ms, ran while the bigger user_info built its key, the sync's last step).
   * Called whenever a copy ends.
   */
  private analyzeSoon(): void {
    const first = this.toAnalyze[0];
    if (first === undefined || this.analyzer !== undefined || this.abort.signal.aborted) return;
    const waited = Date.now() - first.at;
    if (this.running.size > 0 && waited < ANALYZE_WAIT_MS) {
      this.analyzeTimer ??= setTimeout(() => {
        this.analyzeTimer = undefined;
        this.analyzeSoon();
      }, ANALYZE_WAIT_MS - waited).unref();
      return;
    }
    // no room in the job's pool: the next copy to end calls again
    if (this.connectionsHeld + 1 > this.o.connections) return;
    this.startAnalyzer();
  }

  /**
   * The ANALYZE of the tables waiting for it, on a connection of its own or on the one a turn hands
   * over as it ends (`from`: the turn is still among the running copies until it has ended).
   */
  private startAnalyzer(from?: { db: pg.Client; turn: string }): void {
    clearTimeout(this.analyzeTimer);
    this.analyzeTimer = undefined;
    this.analyzer = this.analyzeCopied(from).finally(() => {
      this.analyzer = undefined;
      // its connection is back in the job's pool: a copy waiting for room may start
      this.o.onDone();
      this.analyzeSoon();
    });
  }

  private async analyzeCopied(from?: { db: pg.Client; turn: string }): Promise<void> {
    const { log } = this.o;
    const othersRunning = (): number => this.running.size - (from !== undefined && this.running.has(from.turn) ? 1 : 0);
    let db: pg.Client;
    try {
      db = from?.db ?? (await connect(this.o.localConnstr, { name: 'copy_analyze', logger: log, applicationName: `${this.o.applicationName} analyze` }));
    } catch (err) {
      const names = this.toAnalyze.splice(0).map((t) => t.dest);
      log.warning(`ANALYZE of ${names.join(', ')} after their copy not run (${describeError(err)}); autovacuum analyzes them in time`);
      return;
    }
    try {
      for (let t = this.toAnalyze[0]; t !== undefined && !this.abort.signal.aborted; t = this.toAnalyze[0]) {
        // a copy started meanwhile: the rest waits for it to end (analyzeSoon, called when this ends)
        if (othersRunning() > 0 && Date.now() - t.at < ANALYZE_WAIT_MS) break;
        this.toAnalyze.shift();
        const dest = t.dest;
        await analyze(db, dest).catch((e: unknown) => log.warning(`ANALYZE of ${dest} after its copy failed: ${describeError(e)}`));
      }
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  /**
   * Learn the provider's size of each table waiting for a copy (once a table): with copies in
   * parallel, the whole sync ends soonest when the longest copies start first instead of after
   * the small ones. Only an order: a size that cannot be read counts as 0.
   */
  async learnSizes(provider: pg.ClientBase, tables: ReadonlyMap<string, TableState>): Promise<void> {
    const unknown = [...tables.values()].filter((t) => needsCopy(t) && !this.sizes.has(t.name)).map((t) => t.name);
    if (unknown.length === 0) return;
    const sizes = await catalog.tableSizes(provider, unknown).catch((err: unknown) => {
      this.o.log.debug(`copies: sizes of ${unknown.join(', ')} on the provider not read (${describeError(err)}); copied in list order`);
      return new Map<string, number>();
    });
    for (const name of unknown) this.sizes.set(name, sizes.get(name) ?? 0);
  }

  private biggestFirst(tables: ReadonlyMap<string, TableState>): TableState[] {
    // a stable sort: equal sizes keep the list's order
    return [...tables.values()].sort((a, b) => (this.sizes.get(b.name) ?? 0) - (this.sizes.get(a.name) ?? 0));
  }

  /** The job's next table for this turn: one that needs a copy and may start now. */
  private async nextOfTurn(db: pg.Client): Promise<string | undefined> {
    for (const t of this.biggestFirst(await loadTableStates(db, this.o.queue))) {
      // only tables the worker's rounds have seen waiting: their events are being kept since then
      if (needsCopy(t) && !needsStructureBack(t) && this.parkedSince.has(t.name) && this.mayStart(t, this.running.size - 1)) return t.name;
    }
    return undefined;
  }

  /**
   * 'done' when there was nothing to copy after all; 'not-yet' when the provider, or the lead
   * part of a merged table, is not ready; { copied: dest table } after a copy.
   */
  private async copyWith(db: pg.Client, provider: pg.Client, name: string): Promise<'done' | 'not-yet' | { copied: string }> {
    const { queue, log } = this.o;
    // the provider's list read meanwhile: the usual copy source needs it (see openCopySource)
    const providerStates = loadTableStates(provider, queue);
    providerStates.catch(() => undefined);
    // the state may have moved on while the copy waited for its turn
    const fresh = (await loadTableStates(db, queue)).get(name);
    if (fresh === undefined || !needsCopy(fresh)) return 'done';
    checkTableAttrs(fresh);
    const handler = tableHandler(fresh).impl;
    if (handler.copy === 'none') {
      // catching-up without a snapshot: what waited in the copy backlog is replayed first, and
      // the end of the next batch makes the table ok
      await setTableState(db, log, queue, name, null, 'catching-up');
      log.info(`${name}: handler ${handler.name} copies nothing`);
      return 'done';
    }

    const source = await openCopySource({ queue, db, provider, providerStates, log, applicationName: `${this.o.applicationName} copy ${name}`, parkedSince: this.parkedSince.get(name) }, fresh);
    try {
      return await this.copyFrom(db, provider, source, fresh);
    } catch (err) {
      if (!(err instanceof CopySourceNotReady)) throw err;
      // said once per wait: the copy is tried again every second
      if (!this.sourceWaits.has(name)) log.info(`${name}: ${err.message}`);
      this.sourceWaits.add(name);
      return 'not-yet';
    } finally {
      await source.close();
    }
  }

  private async copyFrom(db: pg.Client, provider: pg.Client, source: CopySource, table: TableState): Promise<'done' | 'not-yet' | { copied: string }> {
    const { queue, log } = this.o;
    const name = table.name;
    let fresh = table;
    const src = source.state;
    // a source that is copying the table itself has no complete data to give yet, nor a
    // combined root whose merge leaves are still copying their parts into it
    const partsPending = src?.local === true && src.state === 'ok' && (await londisteSql.mergePartsPending(source.client, queue, src.dest));
    if (src?.local !== true || src.state !== 'ok' || partsPending) {
      const why = partsPending ? 'merge leaves there are still copying their parts of it' : `state there: ${src?.state ?? 'not replicated'}`;
      if (!this.waiting.has(name)) log.info(`${name}: waiting for ${source.isProvider ? 'the provider' : `copy node ${source.node}`} to finish its own copy (${why})`);
      this.waiting.add(name);
      return 'not-yet';
    }
    // a merged table's parts learn each other's progress from their states: 'in-copy' first
    const moved = fresh.state !== 'in-copy';
    if (moved) await setTableState(db, log, queue, name, null, 'in-copy');
    // whether other queues here feed the same table (add-table --merge-all), asked once it is in copy
    const others = await londisteSql.otherMergeParts(db, queue, name);
    if (moved && others) {
      const reloaded = (await loadTableStates(db, queue)).get(name);
      if (reloaded === undefined) return 'done';
      fresh = reloaded;
    } else if (moved) {
      // no other part: no copy role to learn (londiste._coordinate_copy gives none to a lone table)
      fresh = { ...fresh, state: 'in-copy' };
    }
    const mode = copyMode(fresh.copyRole);
    if (mode !== 'alone' && !source.isProvider) {
      throw new SkytoolsError(`${name}: a part of merged table ${fresh.dest} copies from its provider only (copy_node=${fresh.attrs['copy_node'] ?? ''}); remove-table, then add-table --merge-all without --copy-node`);
    }
    if (mode === 'alone' && others) {
      // one part copied again by itself would empty the table of the others' rows
      throw new SkytoolsError(`${name}: cannot copy one part of merged table ${fresh.dest} by itself while its other parts are in sync (their rows would be lost); copy every part again: remove-table, then add-table --merge-all`);
    }
    if (mode === 'wait') {
      if (!this.waiting.has(name)) {
        const lead = await londisteSql.mergeLeadQueue(db, queue, name);
        log.info(`${name}: waiting for the part of queue ${lead ?? '?'} to start the copies of merged table ${fresh.dest} (its job must be running)`);
      }
      this.waiting.add(name);
      return 'not-yet';
    }
    this.waiting.delete(name);
    // not again for each try while the copy source makes it wait (see sourceWaits)
    if (!this.sourceWaits.has(name)) log.info(`${name}: starting copy${fresh.dest !== name ? ` into ${fresh.dest}` : ''}${source.isProvider ? '' : ` from node ${source.node}`}`);
    const stats = this.o.stats;
    let streaming = false;
    await copyTable({
      queue,
      mode,
      table: fresh,
      sourceName: src.dest,
      src: source.client,
      snapshot: source.snapshot,
      dst: db,
      log,
      signal: this.abort.signal,
      // a tick now lets the table reach 'ok' without waiting for the next scheduled one; a quiet
      // one: the other consumers of the queue (a londisted may host a hundred) have nothing to do
      // with it, and this job's worker is woken when the copy ends (onDone)
      onCommitted: () =>
        pgq.tickNow(provider, queue, { quiet: true }).then(
          () => undefined,
          (err: unknown) => log.warning(`${name}: no tick after the copy (${describeError(err)}); the next scheduled one will do`),
        ),
      onStreaming: (progress) => {
        streaming = true;
        stats?.copyStarted(name, progress);
      },
    }).then(
      () => stats?.copyEnded(name, true),
      (err: unknown) => {
        if (streaming) stats?.copyEnded(name, false);
        throw err;
      },
    );
    this.sourceWaits.delete(name);
    log.debug(`copy of ${name} done`);
    return { copied: fresh.dest };
  }

  /** Connections the copies hold (or are about to open): a copy waiting for its turn counts. */
  private get connectionsHeld(): number {
    return 2 * this.running.size + (this.analyzer === undefined ? 0 : 1);
  }

  /** Is a copy running? */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /** Abort running copies (their transactions roll back) and wait for them to end. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.analyzeTimer);
    await Promise.allSettled([...this.running.values()]);
    // tables still waiting for their ANALYZE are left to autovacuum
    await this.analyzer;
  }
}
