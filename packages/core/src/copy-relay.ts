/**
 * One COPY ... TO STDOUT on one server fed into a COPY ... FROM STDIN on another, as the server
 * sends it: the source's CopyData messages are written to the target's socket unchanged (their
 * framing is the same both ways), so Node reads 5 bytes of header a row and copies nothing. The
 * pipe it replaces (pg-copy-streams out, a row counter, pg-copy-streams in) unframed, counted and
 * re-chunked every row: about 0.45 µs a row of Node CPU, competing with the two servers for a
 * 2-core machine (bench/README, "The copy against the psql pipe").
 *
 * While the rows flow, the source connection's socket is read here instead of by `pg`; the
 * messages that end the COPY (and any notice in between) go back to `pg`'s own handling, so
 * both clients end the statement in their usual state. The socket's backpressure holds: the
 * source is not read while the target's socket has more queued than it takes.
 */
import type pg from 'pg';
import type { Duplex } from 'node:stream';
import { CopyFrameScanner } from './copy-frame-scanner.js';

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);
const ZEROS = Buffer.alloc(65_536);

function copyFail(message: string): Buffer {
  const text = Buffer.from(`${message}\0`, 'utf8');
  const out = Buffer.alloc(5 + text.length);
  out[0] = 0x66; // 'f'
  out.writeUInt32BE(4 + text.length, 1);
  text.copy(out, 5);
  return out;
}

function copyRows(tag: { text?: string } | undefined): number | undefined {
  const m = /^COPY (\d+)/.exec(tag?.text ?? '');
  return m === null ? undefined : Number(m[1]);
}

/** The part of pg's connection a COPY statement needs (pg's Submittable protocol). */
interface WireConnection {
  readonly stream: Duplex;
  query(text: string): void;
}

type DataListener = (chunk: Buffer) => void;

/** A statement's end: resolved at ReadyForQuery, rejected at the first error. */
class Ending {
  readonly promise: Promise<void>;
  error: unknown = undefined;
  settled = false;
  private resolveFn: () => void = () => undefined;
  private rejectFn: (e: unknown) => void = () => undefined;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // awaited later, maybe after it failed
    this.promise.catch(() => undefined);
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.error = err;
    this.rejectFn(err);
  }

  succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn();
  }
}

/**
 * What a COPY statement never gets from the server: pg hands whatever comes to the active
 * statement without asking whether it handles it, and a missing handler would throw in the
 * socket's event handler (the whole process down). Each fails the statement instead.
 */
abstract class CopyStatement {
  connection: WireConnection | undefined;
  rows: number | undefined;
  readonly ended = new Ending();

  constructor(readonly text: string) {}

  protected unexpected(what: string): void {
    this.ended.fail(new Error(`COPY relay: ${what} in answer to ${this.text.slice(0, 200)}`));
  }

  handleEmptyQuery(): void {
    this.unexpected('an empty query');
  }

  handleRowDescription(): void {
    this.unexpected('rows of a query');
  }

  handleDataRow(): void {
    this.unexpected('rows of a query');
  }

  handlePortalSuspended(): void {
    this.unexpected('a suspended portal');
  }

  handleCopyData(): void {
    this.unexpected('COPY data outside the relay');
  }

  handleCopyInResponse(): void {
    this.unexpected('a COPY FROM STDIN');
  }

  handleCommandComplete(msg: { text?: string }): void {
    this.rows = copyRows(msg);
  }

  handleError(err: unknown): void {
    this.ended.fail(err);
  }

  handleReadyForQuery(): void {
    this.ended.succeed();
  }
}

/** The target's COPY ... FROM STDIN: ready once the server has sent CopyInResponse. */
class CopyInStatement extends CopyStatement {
  readonly ready = new Ending();

  submit(connection: WireConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  override handleCopyInResponse(): void {
    this.ready.succeed();
  }

  protected override unexpected(what: string): void {
    super.unexpected(what);
    this.ready.fail(this.ended.error);
  }

  override handleError(err: unknown): void {
    this.ready.fail(err);
    super.handleError(err);
  }

  override handleReadyForQuery(): void {
    // a statement that never reached COPY mode is not ready either
    this.ready.fail(new Error(`COPY relay: COPY FROM did not start: ${this.text.slice(0, 200)}`));
    super.handleReadyForQuery();
  }

  write(bytes: Buffer): boolean {
    return this.connection?.stream.write(bytes) ?? true;
  }
}

/** The source's COPY ... TO STDOUT, its socket read by a CopyFrameScanner until the data ends. */
class CopyOutStatement extends CopyStatement {
  /** Set when the data ended with CopyDone (not with an error). */
  complete = false;
  private pgListener: DataListener | undefined;
  private readonly onData: DataListener;

  /** `close` ends the source's client (no 'error' event then reports the loss). */
  constructor(
    text: string,
    scanner: CopyFrameScanner,
    private readonly close: () => Promise<void>,
  ) {
    super(text);
    this.onData = (chunk) => {
      try {
        scanner.feed(chunk);
      } catch (err) {
        // not a COPY stream pg could go on reading either (a bad message length)
        this.ended.fail(err);
        this.abandon();
      }
    };
  }

  /** A source waiting for rows from us cannot be brought back: it is closed. */
  override handleCopyInResponse(): void {
    super.handleCopyInResponse();
    this.abandon();
  }

  /**
   * pg calls this when the statement's turn comes: the socket is taken over before the query
   * goes out. An error returned (not thrown) is handed to handleError and leaves the client usable.
   * pg's parser holds no partial message here: the client is idle, its last message complete
   * (the one exception, a notification split across two reads, does not happen to a connection
   * that does not LISTEN, as a copy's does not).
   */
  submit(connection: WireConnection): Error | undefined {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data') as DataListener[];
    const pgListener = listeners[0];
    if (listeners.length !== 1 || pgListener === undefined) return new Error(`COPY relay: the source connection has ${String(listeners.length)} data listeners, expected pg's one`);
    this.pgListener = pgListener;
    socket.removeListener('data', pgListener);
    socket.on('data', this.onData);
    connection.query(this.text);
    return undefined;
  }

  /** A complete message that pg handles itself (a notice in the middle of the rows). */
  toPg(message: Buffer): void {
    this.pgListener?.(message);
  }

  /** The rows ended: the socket goes back to pg with what is left of this chunk. */
  detach(rest: Buffer): void {
    const socket = this.connection?.stream;
    if (socket === undefined || this.pgListener === undefined) return;
    this.complete = rest[0] === 0x63; // CopyDone
    socket.removeListener('data', this.onData);
    socket.on('data', this.pgListener);
    this.pgListener(rest);
    // the relay may have paused it for the target's backpressure
    socket.resume();
  }

  /**
   * Stop reading: the target failed, or the stream is not one. A COPY TO cannot be stopped short
   * of reading it all, so the connection is closed.
   */
  abandon(): void {
    const socket = this.connection?.stream;
    if (socket === undefined) return;
    socket.removeListener('data', this.onData);
    this.close().catch(() => socket.destroy());
  }

  pause(): void {
    this.connection?.stream.pause();
  }

  resume(): void {
    this.connection?.stream.resume();
  }
}

export interface CopyRelayResult {
  /** Rows the target took (its COPY's count). */
  rows: number;
  /** Rows the source sent (its COPY's count): fewer on the target means a trigger there dropped some. */
  sourceRows: number | undefined;
  /** CopyData payload bytes relayed. */
  bytes: number;
}

/**
 * Relays rows from `src` (running `copyOutSql`, a COPY ... TO STDOUT) into `dst` (running
 * `copyInSql`, a COPY ... FROM STDIN of the same format and columns). Both clients must be idle,
 * without pipelining. A source error ends the target's COPY with CopyFail and is thrown; a target
 * error is thrown and closes the source connection while its rows still come (a COPY TO cannot
 * be stopped without reading it to its end). Live counts: `rows` and `bytes` while it runs. One
 * run per instance.
 */
export class CopyRelay {
  private readonly scanner: CopyFrameScanner;
  private out: CopyOutStatement | undefined;
  private input: CopyInStatement | undefined;
  /** The source is paused until the target's socket drains. */
  private waiting = false;
  private started = false;
  private finalRows: number | undefined;
  private cutCompleted = false;

  constructor() {
    this.scanner = new CopyFrameScanner({
      data: (bytes) => {
        if (this.input?.write(bytes) === false) this.backpressure();
      },
      other: (message) => this.out?.toPg(message),
      end: (rest) => this.out?.detach(rest),
    });
  }

  /**
   * Rows so far: CopyData messages while the rows flow (a binary COPY's trailer makes one more),
   * the target's count once the relay has ended.
   */
  get rows(): number {
    return this.finalRows ?? this.scanner.messages;
  }

  get bytes(): number {
    return this.scanner.payloadBytes;
  }

  async run(src: pg.Client, copyOutSql: string, dst: pg.ClientBase, copyInSql: string): Promise<CopyRelayResult> {
    if (this.started) throw new Error('CopyRelay: run() once per relay; make a new one for the next copy');
    this.started = true;
    const input = new CopyInStatement(copyInSql);
    this.input = input;
    dst.query(input);
    await input.ready.promise;

    const out = new CopyOutStatement(copyOutSql, this.scanner, () => src.end());
    this.out = out;
    // the target failing first: nothing more is read from the source (unless its rows are all
    // in: then it only has its command tag left to send), and the message cut short is completed
    input.ended.promise.catch(() => {
      if (out.ended.settled || this.scanner.done) return;
      out.abandon();
      this.completeCutMessage(input);
    });
    src.query(out);
    try {
      await out.ended.promise;
    } catch (err) {
      // the target failed first (and the source was closed for it): its error is the cause; the
      // row cut short is completed here too when the source broke off first in the same turn
      if (input.ended.settled) {
        this.completeCutMessage(input);
        throw input.ended.error ?? err;
      }
      // the source failed (its connection may have dropped in the middle of a row): the
      // target's COPY is ended without its rows
      this.completeCutMessage(input);
      input.write(copyFail(`source COPY failed: ${err instanceof Error ? err.message : String(err)}`));
      await input.ended.promise.catch(() => undefined);
      throw err;
    }
    if (!out.complete) input.write(copyFail('source COPY ended without its CopyDone'));
    else input.write(COPY_DONE);
    await input.ended.promise;
    this.finalRows = input.rows ?? this.scanner.messages;
    return { rows: this.finalRows, sourceRows: out.rows, bytes: this.scanner.payloadBytes };
  }

  /**
   * The CopyData message the target has in part, completed with zeros: it reads the next
   * message (CopyFail, or its next statement) whole, and a failed COPY drops it.
   */
  private completeCutMessage(input: CopyInStatement): void {
    if (this.cutCompleted) return;
    this.cutCompleted = true;
    for (let left = this.scanner.dataLeft; left > 0; left -= ZEROS.length) input.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
  }

  private backpressure(): void {
    const out = this.out;
    const socket = this.input?.connection?.stream;
    if (out === undefined || socket === undefined || this.waiting) return;
    this.waiting = true;
    out.pause();
    socket.once('drain', () => {
      this.waiting = false;
      out.resume();
    });
  }
}
