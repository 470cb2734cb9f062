/**
 * What a job has done and where it stands, kept in memory for londisted's metrics and status
 * page: the worker reports each round, batch and copy; a scrape only reads. Nothing here names a
 * connection string (errors are masked before they are reported).
 */

export interface NodeView {
  queue: string;
  name: string;
  type: string;
  /** The provider's node name (null on the root, which pgq_node lists as its own provider). */
  provider: string | null;
  paused: boolean;
}

/** A running copy, read live from its stream's meter. */
export interface CopyProgress {
  readonly rows: number;
  readonly bytes: number;
}

interface RunningCopy {
  meter: CopyProgress;
  startedAt: number;
}

export interface TableView {
  name: string;
  dest: string;
  state: string;
  copy?: { rows: number; bytes: number; seconds: number };
}

/**
 * How long a lag frozen at the start of an idle spell is believed: an idle job still takes its
 * provider's idle ticks now and then (ticker_idle_period, and at least every few minutes when
 * it gave its connection back), so an older last tick means the ticks stopped coming (a dead
 * ticker) and the real age shows.
 */
const IDLE_LAG_TRUSTED_MS = 300_000;

/**
 * An error as served over HTTP: connection strings and network addresses out (the status page
 * promises neither; the log has the whole message).
 */
export function servedError(message: string): string {
  return message
    .replace(/'[^']*\b(?:host|hostaddr|dbname|user|port|password)=[^']*'/g, "'(connection string)'")
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '(address)')
    .replace(/\[[0-9a-fA-F:]+\](?::\d+)?/g, '(address)');
}

export class JobStats {
  node: NodeView | undefined;
  /** The worker holds its lock and runs rounds. */
  up = false;
  /** Another process runs this job (holds its lock): this one waits as a warm standby. */
  standby = false;
  batches = 0;
  events = 0;
  errors = 0;
  restarts = 0;
  copiesDone = 0;
  copiedRows = 0;
  copiedBytes = 0;
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  lastTickId: string | null = null;
  /** Time (ms) of the newest tick applied, on this host's clock (see BatchInfo.curTickLocalTime). */
  private lastTickTime: number | null = null;
  /**
   * While the job is idle (its last batch reached the provider's newest tick), the lag as it was
   * then: nothing is waiting, and a tick with events wakes the worker at once. Cleared by a batch
   * taken, a pause or an error.
   */
  private idleLag: number | null = null;
  private tables: TableView[] = [];
  private readonly copies = new Map<string, RunningCopy>();

  constructor(readonly job: string) {}

  seenNode(node: NodeView): void {
    this.node = node;
    // a paused node is behind, not idle
    if (node.paused) this.idleLag = null;
  }

  /** A batch is taken: whatever comes of it, the job is no longer idle. */
  batchStarted(): void {
    this.idleLag = null;
  }

  seenTables(tables: Iterable<{ name: string; dest: string; state: string | null }>): void {
    this.tables = [...tables].map((t) => ({ name: t.name, dest: t.dest, state: t.state ?? 'wanting copy' }));
  }

  batchDone(events: number, tickId: string, tickTime: Date): void {
    this.batches += 1;
    this.events += events;
    this.lastTickId = tickId;
    this.lastTickTime = tickTime.getTime();
    if (events > 0) this.idleLag = null;
  }

  /** The worker found nothing more to do: the lag stops growing until something comes. */
  idle(now = Date.now()): void {
    if (this.lastTickTime !== null && this.idleLag === null) this.idleLag = Math.max(0, now - this.lastTickTime) / 1000;
  }

  failed(message: string, now = Date.now()): void {
    this.errors += 1;
    this.lastError = servedError(message);
    this.lastErrorAt = now;
    this.idleLag = null;
  }

  copyStarted(table: string, meter: CopyProgress, now = Date.now()): void {
    this.copies.set(table, { meter, startedAt: now });
  }

  copyEnded(table: string, committed: boolean): void {
    const c = this.copies.get(table);
    this.copies.delete(table);
    if (c === undefined || !committed) return;
    this.copiesDone += 1;
    this.copiedRows += c.meter.rows;
    this.copiedBytes += c.meter.bytes;
  }

  /** Seconds between the newest applied tick and now (frozen while idle); null before the first batch. */
  lagSeconds(now = Date.now()): number | null {
    if (this.lastTickTime === null) return null;
    const age = Math.max(0, now - this.lastTickTime);
    return this.idleLag !== null && age < IDLE_LAG_TRUSTED_MS ? this.idleLag : age / 1000;
  }

  tableViews(now = Date.now()): TableView[] {
    return this.tables.map((t) => {
      const c = this.copies.get(t.name);
      return c === undefined ? t : { ...t, copy: { rows: c.meter.rows, bytes: c.meter.bytes, seconds: (now - c.startedAt) / 1000 } };
    });
  }

  runningCopies(now = Date.now()): { table: string; rows: number; bytes: number; seconds: number }[] {
    return [...this.copies].map(([table, c]) => ({ table, rows: c.meter.rows, bytes: c.meter.bytes, seconds: (now - c.startedAt) / 1000 }));
  }
}
