/**
 * The byte-level step between a provider's COPY of a batch's events and this node's COPY into
 * the batch stage (ld_batch): each line passes through and gains four fields the SQL apply
 * reads: ld_op (I, U or D for a row event, NULL for the others, which are applied one by one in
 * order), ld_cols (an urlencoded row's raw column list, its layout), and the row image, decoded
 * here byte by byte: ld_vals, the values as a text[] in the layout's order (layout 'a:'), or
 * ld_row, the row as JSON (layout 'u:'; JSON rows pass as they are). The array is the fast
 * form (measured: a third less to load than jsonb, and no jsonb lookups in the apply); JSON is
 * kept for handlers that read the image by column name. A row event's ev_data can be left out
 * when nothing on this node reads it (no copy backlog, branch, merge or custom handler): it
 * would be stored twice. No event becomes a string or an object: Buffers in, Buffers out.
 *
 * Input fields (COPY text): ev_id, ev_time, ev_txid, ev_type, ev_data, ev_extra1..4.
 */
import { Transform, type TransformCallback } from 'node:stream';

const TAB = 0x09;
const NL = 0x0a;
const CR = 0x0d;
const BSL = 0x5c;
const AMP = 0x26;
const EQ = 0x3d;
const PCT = 0x25;
const PLUS = 0x2b;
const QUOTE = 0x22;
const COLON = 0x3a;
const HEX = Buffer.from('0123456789abcdef');
const OUT_CHUNK = 65_536;
/** Copies shorter than this are done byte by byte. */
const SHORT_COPY = 64;
const NULL_FIELD = Buffer.from('\\N');
const JSON_NULL = Buffer.from('null');
const ARRAY_NULL = Buffer.from('NULL');
/** ev_type of a JSON event: the op is the value of "op". */
const OP_KEY = Buffer.from('"op":"');

/** The value of each hex digit byte, -1 for the others. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE[(HEX[i] as number)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
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
    if (end - start < SHORT_COPY) {
      // Buffer#copy costs more in its checks than a short loop (fields and keys are short)
      const buf = this.buf;
      let n = this.len;
      for (let i = start; i < end; i++) buf[n++] = src[i] as number;
      this.len = n;
      return;
    }
    src.copy(this.buf, this.len, start, end);
    this.len += end - start;
  }

  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

/** How a decoded byte is written inside a quoted string: as a JSON string or a text[] element. */
const enum Quoting {
  Json,
  Array,
}

/**
 * The most output bytes one input byte can take: a raw control byte becomes JSON's \\u00XX
 * (7), a backslash becomes four in both forms.
 */
const MAX_ESCAPED: Record<Quoting, number> = { [Quoting.Json]: 7, [Quoting.Array]: 4 };

/**
 * Decode src[start, end) (urlencoded) into a quoted string inside a COPY text field: a JSON
 * string (JSON escapes, then COPY doubles every backslash) or a text[] element (the array's
 * escapes for quote and backslash, doubled for COPY; tab, newline and carriage return as COPY's
 * \t, \n, \r, which the array reads back as they were). Throws on a broken %-escape. Written
 * straight into the sink's buffer: this loop is the stager's hot path.
 */
function quotedString(out: ByteSink, src: Buffer, start: number, end: number, quoting: Quoting): void {
  out.ensure((end - start) * MAX_ESCAPED[quoting] + 2);
  const buf = out.buf;
  let n = out.len;
  buf[n++] = QUOTE;
  for (let i = start; i < end; i++) {
    let b = src[i] as number;
    if (b === PCT) {
      const hi = i + 2 < end ? (HEX_VALUE[src[i + 1] as number] as number) : -1;
      const lo = i + 2 < end ? (HEX_VALUE[src[i + 2] as number] as number) : -1;
      if (hi < 0 || lo < 0) throw new Error(`broken %-escape in urlencoded row data at byte ${String(i - start)}`);
      b = (hi << 4) | lo;
      i += 2;
    } else if (b === PLUS) {
      b = 0x20;
    }
    if (b >= 0x20 && b !== QUOTE && b !== BSL) {
      buf[n++] = b;
    } else if (b === QUOTE || b === BSL) {
      buf[n++] = BSL;
      buf[n++] = BSL;
      if (b === BSL) {
        buf[n++] = BSL;
        buf[n++] = BSL;
      } else {
        buf[n++] = QUOTE;
      }
    } else if (quoting === Quoting.Array) {
      if (b === TAB || b === NL || b === CR) {
        buf[n++] = BSL;
        buf[n++] = b === TAB ? 0x74 : b === NL ? 0x6e : 0x72;
      } else {
        buf[n++] = b;
      }
    } else {
      // \u00XX, its backslash doubled for COPY
      buf[n++] = BSL;
      buf[n++] = BSL;
      buf[n++] = 0x75;
      buf[n++] = 0x30;
      buf[n++] = 0x30;
      buf[n++] = HEX[b >> 4] as number;
      buf[n++] = HEX[b & 15] as number;
    }
  }
  buf[n++] = QUOTE;
  out.len = n;
}

/** Un-escape a COPY text field when it holds backslashes (an urlencoded row normally has none). */
function copyUnescape(src: Buffer, start: number, end: number): Buffer {
  const field = src.subarray(start, end);
  const out: number[] = [];
  for (let i = 0; i < field.length; i++) {
    const b = field[i] as number;
    if (b !== BSL) {
      out.push(b);
      continue;
    }
    const n = field[++i] ?? 0;
    out.push(n === 0x74 ? TAB : n === 0x6e ? NL : n === 0x72 ? CR : n);
  }
  return Buffer.from(out);
}

/** How the stager writes row events. */
export interface StagerOptions {
  /** Urlencoded rows' values as a text[] ('array', the default) or as a JSON object ('json'). */
  rowValues?: 'array' | 'json';
  /** Keep row events' ev_data in the stage (default true). */
  keepRowData?: boolean;
}

export class EventStager extends Transform {
  private rest: Buffer | null = null;
  private readonly asArray: boolean;
  private readonly keepRowData: boolean;
  private readonly out = new ByteSink();
  /** The tab positions of the line at hand (reused: no allocation per event). */
  private readonly tabs = new Int32Array(8);
  /** The urlencoded pairs of the row at hand (scanPairs; reused). */
  private pairs = new Int32Array(3 * 64);
  /** Events seen, and row events among them. */
  events = 0;
  rowEvents = 0;
  /** Row events in JSON (their column list is worked out in SQL). */
  jsonRows = 0;

  constructor(opts: StagerOptions = {}) {
    super();
    this.asArray = (opts.rowValues ?? 'array') === 'array';
    this.keepRowData = opts.keepRowData ?? true;
  }

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
      this.fields(src, start, end, dataStart, dataEnd);
      out.byte(TAB);
      out.byte(t0);
      this.urlencodedRow(src, dataStart, dataEnd);
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
        this.fields(src, start, end, dataStart, dataEnd);
        out.byte(TAB);
        out.byte(op);
        out.byte(TAB);
        out.bytes(NULL_FIELD, 0, 2);
        out.byte(TAB);
        out.bytes(NULL_FIELD, 0, 2);
        out.byte(TAB);
        out.bytes(src, dataStart, dataEnd);
        out.byte(NL);
        return;
      }
    }
    // applied one by one: control events, TRUNCATE, sqltriga, EXECUTE
    out.bytes(src, start, end);
    for (let i = 0; i < 4; i++) {
      out.byte(TAB);
      out.bytes(NULL_FIELD, 0, 2);
    }
    out.byte(NL);
  }

  /** A row event's nine fields as they came, or with ev_data left out. */
  private fields(src: Buffer, start: number, end: number, dataStart: number, dataEnd: number): void {
    if (this.keepRowData) {
      this.out.bytes(src, start, end);
      return;
    }
    this.out.bytes(src, start, dataStart);
    this.out.bytes(NULL_FIELD, 0, 2);
    this.out.bytes(src, dataEnd, end);
  }

  /**
   * The pairs of the urlencoded row src[start, end): for each, its start, its '=' (-1: none, a
   * NULL value) and its end, in `pairs`; their number, or -1 when the row is `raw` (a COPY text
   * field) and holds a backslash (COPY-escaped: to be unescaped first, once).
   */
  private scanPairs(src: Buffer, start: number, end: number, raw: boolean): number {
    // the '&' by memchr over the row (values are long); the '=' by a loop over the key (short)
    const row = src.subarray(start, end);
    if (raw && row.indexOf(BSL) >= 0) return -1;
    let n = 0;
    for (let s = 0; s < row.length; ) {
      let e = row.indexOf(AMP, s);
      if (e < 0) e = row.length;
      if (e > s) {
        let eq = -1;
        for (let i = s; i < e; i++) {
          if (row[i] === EQ) {
            eq = start + i;
            break;
          }
        }
        // a pair without a key ('=v', '=') names no column: left out, as the layout leaves it out
        if (eq === start + s) {
          s = e + 1;
          continue;
        }
        if (3 * n + 3 > this.pairs.length) {
          const more = new Int32Array(this.pairs.length * 2);
          more.set(this.pairs);
          this.pairs = more;
        }
        this.pairs[3 * n] = start + s;
        this.pairs[3 * n + 1] = eq;
        this.pairs[3 * n + 2] = start + e;
        n++;
      }
      s = e + 1;
    }
    return n;
  }

  /**
   * ld_cols (the raw keys joined by '&' after 'a:' or 'u:'), then ld_vals and ld_row: the values
   * as a text[] and NULL ('a:'), or NULL and the row as a JSON object ('u:'), each after a tab.
   * `src[start, end)` is the ev_data field as COPY sent it.
   */
  private urlencodedRow(src: Buffer, start: number, end: number): void {
    let count = this.scanPairs(src, start, end, true);
    if (count < 0) {
      // an urlencoded row normally holds no backslash; this one came COPY-escaped
      src = copyUnescape(src, start, end);
      start = 0;
      end = src.length;
      count = this.scanPairs(src, start, end, false);
    }
    const out = this.out;
    const p = this.pairs;
    out.byte(TAB);
    out.byte(this.asArray ? 0x61 : 0x75);
    out.byte(COLON);
    for (let k = 0; k < count; k++) {
      if (k > 0) out.byte(AMP);
      const eq = p[3 * k + 1] as number;
      out.bytes(src, p[3 * k] as number, eq >= 0 ? eq : (p[3 * k + 2] as number));
    }
    out.byte(TAB);
    if (this.asArray) {
      // the values in key order as a text[] literal; a key without '=' is a NULL element
      out.byte(0x7b);
      for (let k = 0; k < count; k++) {
        if (k > 0) out.byte(0x2c);
        const eq = p[3 * k + 1] as number;
        if (eq >= 0) quotedString(out, src, eq + 1, p[3 * k + 2] as number, Quoting.Array);
        else out.bytes(ARRAY_NULL, 0, 4);
      }
      out.byte(0x7d);
      out.byte(TAB);
      out.bytes(NULL_FIELD, 0, 2);
    } else {
      out.bytes(NULL_FIELD, 0, 2);
      out.byte(TAB);
      out.byte(0x7b);
      for (let k = 0; k < count; k++) {
        if (k > 0) out.byte(0x2c);
        const eq = p[3 * k + 1] as number;
        const e = p[3 * k + 2] as number;
        quotedString(out, src, p[3 * k] as number, eq >= 0 ? eq : e, Quoting.Json);
        out.byte(COLON);
        if (eq >= 0) quotedString(out, src, eq + 1, e, Quoting.Json);
        else out.bytes(JSON_NULL, 0, 4);
      }
      out.byte(0x7d);
    }
  }
}
