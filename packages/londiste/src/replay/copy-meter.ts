/**
 * What an initial copy's stream carries, counted as it passes: bytes and rows of a COPY in
 * text format (one line a row) or in binary format (PostgreSQL's framing: a header, then per row
 * a 16-bit field count and each field's 32-bit length before its bytes, -1 for the trailer).
 */
import { Transform, type TransformCallback } from 'node:stream';

export type CopyFormat = 'text' | 'binary';

/** The fixed part of a binary COPY header: signature (11 bytes) and flags (4). */
const BINARY_SIGNATURE_AND_FLAGS = 15;

/**
 * Counts the rows of a binary COPY stream fed in arbitrary chunks. Integers split across two
 * chunks are assembled byte by byte; field data is skipped without being looked at.
 */
export class BinaryRowCounter {
  rows = 0;
  private skip = BINARY_SIGNATURE_AND_FLAGS;
  /** What the next integer is: the header extension's length, a row's field count or a field's length. */
  private next: 'extension' | 'fields' | 'length' | 'done' = 'extension';
  private intValue = 0;
  private intRead = 0;
  private fieldsLeft = 0;

  feed(chunk: Buffer): void {
    let i = 0;
    const end = chunk.length;
    while (i < end && this.next !== 'done') {
      if (this.skip > 0) {
        const take = Math.min(this.skip, end - i);
        this.skip -= take;
        i += take;
        continue;
      }
      const width = this.next === 'fields' ? 2 : 4;
      if (this.intRead === 0 && end - i >= width) {
        this.intValue = width === 2 ? chunk.readInt16BE(i) : chunk.readInt32BE(i);
        i += width;
      } else {
        this.intValue = this.intValue * 256 + (chunk[i] ?? 0);
        i += 1;
        this.intRead += 1;
        if (this.intRead < width) continue;
        // assembled unsigned: make it signed
        if (this.intValue >= 2 ** (8 * width - 1)) this.intValue -= 2 ** (8 * width);
        this.intRead = 0;
      }
      this.took(this.intValue);
      this.intValue = 0;
    }
  }

  private took(value: number): void {
    switch (this.next) {
      case 'extension':
        this.skip = value;
        this.next = 'fields';
        break;
      case 'fields':
        if (value === -1) {
          this.next = 'done';
          break;
        }
        this.rows += 1;
        this.fieldsLeft = value;
        this.next = value === 0 ? 'fields' : 'length';
        break;
      case 'length':
        if (value > 0) this.skip = value;
        this.fieldsLeft -= 1;
        this.next = this.fieldsLeft === 0 ? 'fields' : 'length';
        break;
      case 'done':
        break;
    }
  }
}

/**
 * Counts what passes, and passes it on in chunks of about 256 kB: COPY TO delivers a row at a
 * time, and handing each on as a message of its own costs more than the data.
 */
export class CopyMeter extends Transform {
  bytes = 0;
  private textRows = 0;
  private readonly binary: BinaryRowCounter | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(format: CopyFormat) {
    super();
    this.binary = format === 'binary' ? new BinaryRowCounter() : undefined;
  }

  get rows(): number {
    return this.binary?.rows ?? this.textRows;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.binary !== undefined) this.binary.feed(chunk);
    else for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.textRows += 1;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= 262_144) this.release();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.release();
    cb();
  }

  private release(): void {
    if (this.held.length === 0) return;
    this.push(this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes));
    this.held = [];
    this.heldBytes = 0;
  }
}
