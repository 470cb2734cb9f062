/**
 * The byte-level step between a provider's COPY of a batch's events and this node's COPY into
 * the batch stage (ld_batch): each line passes through unchanged and gains three fields the SQL
 * apply reads: ld_op (I, U or D for a row event, NULL for the others, which are applied one by
 * one in order), ld_cols (an urlencoded row's raw column list, its layout) and ld_row (the row
 * image as JSON: urlencoded rows are decoded here byte by byte, JSON rows pass as they are).
 * No event becomes a string or an object: Buffers in, Buffers out.
 *
 * Input fields (COPY text): ev_id, ev_time, ev_txid, ev_type, ev_data, ev_extra1..4.
 */
import { Transform, type TransformCallback } from 'node:stream';

const TAB = 0x09;
const NL = 0x0a;
const BSL = 0x5c;
const AMP = 0x26;
const EQ = 0x3d;
const PCT = 0x25;
const PLUS = 0x2b;
const QUOTE = 0x22;
const COLON = 0x3a;
const HEX = Buffer.from('0123456789abcdef');
const OUT_CHUNK = 65_536;
const NULL_FIELD = Buffer.from('\\N');
const JSON_NULL = Buffer.from('null');
/** ev_type of a JSON event: the op is the value of "op". */
const OP_KEY = Buffer.from('"op":"');

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** A growing output buffer. */
class ByteSink {
  buf = Buffer.allocUnsafe(1 << 17);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(src: Buffer, start: number, end: number): void {
    this.ensure(end - start);
    src.copy(this.buf, this.len, start, end);
    this.len += end - start;
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

/**
 * One decoded byte of an urlencoded key or value, written as part of a JSON string inside a COPY
 * text field: JSON escapes first, then COPY doubles every backslash.
 */
function jsonCopyByte(out: ByteSink, b: number): void {
  if (b === QUOTE) {
    out.byte(BSL);
    out.byte(BSL);
    out.byte(QUOTE);
  } else if (b === BSL) {
    out.byte(BSL);
    out.byte(BSL);
    out.byte(BSL);
    out.byte(BSL);
  } else if (b < 0x20) {
    // \u00XX, its backslash doubled for COPY
    out.byte(BSL);
    out.byte(BSL);
    out.byte(0x75);
    out.byte(0x30);
    out.byte(0x30);
    out.byte(HEX[b >> 4] as number);
    out.byte(HEX[b & 15] as number);
  } else {
    out.byte(b);
  }
}

/** Decode src[start, end) (urlencoded) into a JSON string. Throws on a broken %-escape. */
function jsonString(out: ByteSink, src: Buffer, start: number, end: number): void {
  out.byte(QUOTE);
  for (let i = start; i < end; i++) {
    const b = src[i] as number;
    if (b === PCT) {
      const hi = hexValue(src[i + 1] ?? 0);
      const lo = hexValue(src[i + 2] ?? 0);
      if (i + 2 >= end || hi < 0 || lo < 0) throw new Error(`broken %-escape in urlencoded row data at byte ${String(i - start)}`);
      jsonCopyByte(out, (hi << 4) | lo);
      i += 2;
    } else if (b === PLUS) {
      out.byte(0x20);
    } else {
      jsonCopyByte(out, b);
    }
  }
  out.byte(QUOTE);
}

/** Un-escape a COPY text field when it holds backslashes (an urlencoded row normally has none). */
function copyUnescape(src: Buffer, start: number, end: number): Buffer {
  const field = src.subarray(start, end);
  if (field.indexOf(BSL) < 0) return field;
  const out: number[] = [];
  for (let i = 0; i < field.length; i++) {
    const b = field[i] as number;
    if (b !== BSL) {
      out.push(b);
      continue;
    }
    const n = field[++i] ?? 0;
    out.push(n === 0x74 ? TAB : n === 0x6e ? NL : n === 0x72 ? 0x0d : n);
  }
  return Buffer.from(out);
}

export class EventStager extends Transform {
  private rest: Buffer | null = null;
  private readonly out = new ByteSink();
  /** The tab positions of the line at hand (reused: no allocation per event). */
  private readonly tabs = new Int32Array(8);
  /** Events seen, and row events among them. */
  events = 0;
  rowEvents = 0;
  /** Row events in JSON (their column list is worked out in SQL). */
  jsonRows = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      let data = chunk;
      if (this.rest !== null) {
        data = Buffer.concat([this.rest, chunk]);
        this.rest = null;
      }
      let start = 0;
      for (let nl = data.indexOf(NL, start); nl >= 0; nl = data.indexOf(NL, start)) {
        this.line(data, start, nl);
        start = nl + 1;
      }
      if (start < data.length) this.rest = Buffer.from(data.subarray(start));
      // one COPY message per 64 kB, not per input chunk (a provider's chunk may be one row)
      if (this.out.len >= OUT_CHUNK) this.push(this.out.take());
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.rest !== null && this.rest.length > 0) this.line(this.rest, 0, this.rest.length);
      this.rest = null;
      if (this.out.len > 0) this.push(this.out.take());
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  /** One event line: src[start, end), without its newline. */
  line(src: Buffer, start: number, end: number): void {
    const tabs = this.tabs;
    let n = 0;
    for (let t = src.indexOf(TAB, start); t >= 0 && t < end; t = src.indexOf(TAB, t + 1)) {
      if (n === 8) throw new Error('an event line has more than 9 fields');
      tabs[n++] = t;
    }
    if (n !== 8) throw new Error(`an event line has ${String(n + 1)} fields, 9 expected`);
    const out = this.out;
    this.events += 1;
    out.bytes(src, start, end);
    const typeStart = (tabs[2] as number) + 1;
    const typeEnd = tabs[3] as number;
    const dataStart = typeEnd + 1;
    const dataEnd = tabs[4] as number;
    const t0 = src[typeStart];
    const t1 = src[typeStart + 1];
    const isNullData = dataEnd - dataStart === 2 && src[dataStart] === BSL && src[dataStart + 1] === 0x4e;
    if ((t0 === 0x49 || t0 === 0x55 || t0 === 0x44) && t1 === COLON && !isNullData) {
      // logutriga: 'I:pk', 'U:pk', 'D:pk' with an urlencoded row
      this.rowEvents += 1;
      out.byte(TAB);
      out.byte(t0);
      this.urlencodedRow(copyUnescape(src, dataStart, dataEnd));
      out.byte(NL);
      return;
    }
    if (t0 === 0x7b && !isNullData) {
      // jsontriga: the op is in the JSON type, the row is already JSON
      const at = src.subarray(typeStart, typeEnd).indexOf(OP_KEY);
      const op = at < 0 ? 0 : (src[typeStart + at + OP_KEY.length] as number);
      if (op === 0x49 || op === 0x55 || op === 0x44) {
        this.rowEvents += 1;
        this.jsonRows += 1;
        out.byte(TAB);
        out.byte(op);
        out.byte(TAB);
        out.bytes(NULL_FIELD, 0, 2);
        out.byte(TAB);
        out.bytes(src, dataStart, dataEnd);
        out.byte(NL);
        return;
      }
    }
    // applied one by one: control events, TRUNCATE, sqltriga, EXECUTE
    out.byte(TAB);
    out.bytes(NULL_FIELD, 0, 2);
    out.byte(TAB);
    out.bytes(NULL_FIELD, 0, 2);
    out.byte(TAB);
    out.bytes(NULL_FIELD, 0, 2);
    out.byte(NL);
  }

  /** ld_cols ('u:' and the raw keys joined by '&') and ld_row (the row as a JSON object), each after a tab. */
  private urlencodedRow(row: Buffer): void {
    const out = this.out;
    out.byte(TAB);
    out.byte(0x75);
    out.byte(COLON);
    let first = true;
    for (let s = 0; s <= row.length; ) {
      let e = row.indexOf(AMP, s);
      if (e < 0) e = row.length;
      if (e > s) {
        const eq = row.indexOf(EQ, s);
        if (!first) out.byte(AMP);
        out.bytes(row, s, eq >= 0 && eq < e ? eq : e);
        first = false;
      }
      s = e + 1;
    }
    out.byte(TAB);
    out.byte(0x7b);
    first = true;
    for (let s = 0; s <= row.length; ) {
      let e = row.indexOf(AMP, s);
      if (e < 0) e = row.length;
      if (e > s) {
        const eq = row.indexOf(EQ, s);
        if (!first) out.byte(0x2c);
        first = false;
        if (eq >= 0 && eq < e) {
          jsonString(out, row, s, eq);
          out.byte(COLON);
          jsonString(out, row, eq + 1, e);
        } else {
          jsonString(out, row, s, e);
          out.byte(COLON);
          out.bytes(JSON_NULL, 0, 4);
        }
      }
      s = e + 1;
    }
    out.byte(0x7d);
  }
}
