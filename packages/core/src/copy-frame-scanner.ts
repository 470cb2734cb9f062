/**
 * The message framing of a COPY ... TO STDOUT response as it arrives from the server, in socket
 * chunks that split messages anywhere. CopyData messages have the same framing in both
 * directions of the protocol, so their bytes can be handed on to a COPY ... FROM STDIN unchanged:
 * the scanner only reads each message's 5-byte header and hands on ranges of whole chunks, never
 * a row at a time.
 */

/** Protocol message codes. */
const COPY_DATA = 0x64; // 'd'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const NOTICE_RESPONSE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION_RESPONSE = 0x41; // 'A'

/** A message header: its code (1 byte) and its length (4 bytes, counting themselves). */
const HEADER = 5;

export interface CopyFrameSink {
  /** Bytes of CopyData messages, their headers included, in stream order (a range may end inside a message). */
  data(bytes: Buffer): void;
  /**
   * A complete message the server may send in the middle of a COPY (a notice, a parameter
   * status, a notification), for the connection's own protocol handling.
   */
  other(message: Buffer): void;
  /**
   * The end of the CopyData messages: `rest` starts with the first message that ends them
   * (CopyDone, or an ErrorResponse) and holds everything after it in this chunk.
   */
  end(rest: Buffer): void;
}

type Kind = 'data' | 'skip' | 'other';

export class CopyFrameScanner {
  /** CopyData messages seen (one a row, the binary format's trailer one more). */
  messages = 0;
  /** CopyData payload bytes seen (the framing not counted). */
  payloadBytes = 0;
  private ended = false;
  /** A header split across chunks: its first bytes. */
  private readonly head = Buffer.alloc(HEADER);
  private headFill = 0;
  /** Bytes left of the current message's body, and what to do with them. */
  private left = 0;
  private kind: Kind = 'skip';
  private parts: Buffer[] = [];

  constructor(private readonly sink: CopyFrameSink) {}

  get done(): boolean {
    return this.ended;
  }

  /** Bytes of the CopyData message handed on in part: its header and first bytes went, these did not. */
  get dataLeft(): number {
    return this.kind === 'data' ? this.left : 0;
  }

  feed(chunk: Buffer): void {
    if (this.ended) throw new Error('CopyFrameScanner: fed after the end of the COPY data');
    const n = chunk.length;
    let i = 0;
    // start of the CopyData bytes of this chunk not yet handed on
    let from = -1;
    const flush = (to: number): void => {
      if (from >= 0 && to > from) this.sink.data(chunk.subarray(from, to));
      from = -1;
    };
    while (i < n) {
      if (this.left > 0) {
        const take = Math.min(this.left, n - i);
        if (this.kind === 'data') {
          if (from < 0) from = i;
        } else if (this.kind === 'other') this.parts.push(chunk.subarray(i, i + take));
        i += take;
        this.left -= take;
        if (this.left === 0) this.bodyDone();
        continue;
      }
      const headerStart = i;
      const carried = this.headFill;
      let code: number;
      let length: number;
      if (carried === 0 && n - i >= HEADER) {
        code = chunk[i] ?? 0;
        length = chunk.readUInt32BE(i + 1);
        i += HEADER;
      } else {
        const take = Math.min(HEADER - carried, n - i);
        chunk.copy(this.head, carried, i, i + take);
        this.headFill += take;
        i += take;
        if (this.headFill < HEADER) {
          // the header ends in the next chunk: what came before it is handed on now
          flush(headerStart);
          return;
        }
        this.headFill = 0;
        code = this.head[0] ?? 0;
        length = this.head.readUInt32BE(1);
      }
      if (length < 4) {
        // what came before it is handed on: the target then holds no row in part
        flush(headerStart);
        throw new Error(`COPY stream: message ${String.fromCharCode(code)} with an invalid length ${String(length)}`);
      }
      this.left = length - 4;
      if (code === COPY_DATA) {
        this.messages += 1;
        this.payloadBytes += this.left;
        this.kind = 'data';
        if (carried > 0) {
          // a header begun in the previous chunk: handed on whole (the chunk's own bytes of it are past i)
          this.sink.data(Buffer.from(this.head));
          from = i;
        } else if (from < 0) from = headerStart;
        continue;
      }
      flush(headerStart);
      const header = carried > 0 ? Buffer.from(this.head) : chunk.subarray(headerStart, i);
      if (code === COPY_OUT_RESPONSE) {
        this.kind = 'skip';
      } else if (code === NOTICE_RESPONSE || code === PARAMETER_STATUS || code === NOTIFICATION_RESPONSE) {
        this.kind = 'other';
        this.parts = [header];
        if (this.left === 0) this.bodyDone();
      } else {
        this.ended = true;
        this.left = 0;
        this.sink.end(carried > 0 ? Buffer.concat([header, chunk.subarray(i)]) : chunk.subarray(headerStart));
        return;
      }
    }
    flush(n);
  }

  private bodyDone(): void {
    if (this.kind !== 'other') return;
    const message = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    this.sink.other(message);
  }
}
