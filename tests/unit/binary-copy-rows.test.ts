// Rows of a binary COPY stream counted from its framing, whatever the chunks it arrives in: a
// stream built by the format's rules (header with an extension area, rows with NULL, empty and
// long fields, a row of no fields, the trailer) is fed whole, in every split into two pieces, and
// byte by byte.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinaryRowCounter } from '@skytools/londiste/internal';

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function row(fields: readonly (Buffer | null)[]): Buffer {
  return Buffer.concat([int16(fields.length), ...fields.flatMap((f) => (f === null ? [int32(-1)] : [int32(f.length), f]))]);
}

const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(3), Buffer.from([1, 2, 3])]);
const rows = [
  row([Buffer.from('1'), null, Buffer.from('德哥\n\t')]),
  row([]),
  row([Buffer.alloc(0), Buffer.alloc(70_000, 0xff)]),
  // a field whose bytes look like a trailer and a field count
  row([Buffer.from([0xff, 0xff, 0, 2]), null]),
];
const stream = Buffer.concat([header, ...rows, int16(-1)]);

describe('binary COPY row counter', () => {
  it('counts rows fed whole', () => {
    const c = new BinaryRowCounter();
    c.feed(stream);
    assert.equal(c.rows, 4);
  });

  it('counts the same in every split into two chunks and byte by byte', () => {
    for (let at = 0; at <= stream.length; at += at < 200 || at > stream.length - 200 ? 1 : 997) {
      const c = new BinaryRowCounter();
      c.feed(stream.subarray(0, at));
      c.feed(stream.subarray(at));
      assert.equal(c.rows, 4, `split at ${String(at)}`);
    }
    const c = new BinaryRowCounter();
    for (let i = 0; i < stream.length; i++) c.feed(stream.subarray(i, i + 1));
    assert.equal(c.rows, 4);
  });

  it('counts rows seen so far while the stream is cut short, and nothing after the trailer', () => {
    const c = new BinaryRowCounter();
    c.feed(Buffer.concat([header, rows[0] ?? Buffer.alloc(0), (rows[1] ?? Buffer.alloc(0)).subarray(0, 1)]));
    assert.equal(c.rows, 1);
    const d = new BinaryRowCounter();
    d.feed(Buffer.concat([stream, row([Buffer.from('x')])]));
    assert.equal(d.rows, 4);
  });
});
