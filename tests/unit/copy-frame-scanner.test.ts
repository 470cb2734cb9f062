// The CopyData framing read from a server's COPY TO response cut into chunks anywhere: the bytes
// handed on must be exactly the CopyData messages, whatever the cuts, and everything else must go
// where it belongs (the notice to pg, the end with what follows it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyFrameScanner } from '@skytools/core/internal';

function message(code: string, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([head, b]);
}

interface Seen {
  data: Buffer;
  others: Buffer[];
  rest: Buffer | undefined;
  messages: number;
  payload: number;
}

function scan(stream: Buffer, cuts: readonly number[]): Seen {
  const data: Buffer[] = [];
  const others: Buffer[] = [];
  let rest: Buffer | undefined;
  const scanner = new CopyFrameScanner({
    data: (b) => data.push(Buffer.from(b)),
    other: (m) => others.push(Buffer.from(m)),
    end: (r) => {
      rest = Buffer.from(r);
    },
  });
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut <= at) continue;
    // what follows the end belongs to pg: the relay stops feeding there
    if (!scanner.done) scanner.feed(stream.subarray(at, cut));
    else rest = Buffer.concat([rest ?? Buffer.alloc(0), stream.subarray(at, cut)]);
    at = cut;
  }
  return { data: Buffer.concat(data), others, rest, messages: scanner.messages, payload: scanner.payloadBytes };
}

// H (CopyOutResponse), rows, a notice between rows, a big row, CopyDone, CommandComplete, ReadyForQuery
const rows = [message('d', '1\tone\n'), message('d', '2\t\\N\n'), message('d', '3\t德哥\n')];
const notice = message('N', 'SNOTICE\0Mhalf way\0\0');
const big = message('d', Buffer.alloc(70_000, 0x61));
const tail = Buffer.concat([message('c', ''), message('C', 'COPY 4\0'), message('Z', 'I')]);
const stream = Buffer.concat([message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0])), rows[0] as Buffer, rows[1] as Buffer, notice, rows[2] as Buffer, big, tail]);
const expectedData = Buffer.concat([rows[0] as Buffer, rows[1] as Buffer, rows[2] as Buffer, big]);

function check(seen: Seen, what: string): void {
  assert.ok(seen.data.equals(expectedData), `${what}: the CopyData bytes handed on`);
  assert.deepEqual(seen.others, [notice], `${what}: the notice`);
  assert.ok(seen.rest?.equals(tail), `${what}: the end and what follows`);
  assert.equal(seen.messages, 4, what);
  assert.equal(seen.payload, expectedData.length - 4 * 5, what);
}

describe('COPY frame scanner', () => {
  it('hands on the CopyData messages of a stream read whole', () => {
    check(scan(stream, []), 'one chunk');
  });

  it('gives the same result for a stream cut once anywhere', () => {
    for (let cut = 1; cut < stream.length; cut += cut < 200 || cut > stream.length - 200 ? 1 : 997) check(scan(stream, [cut]), `cut at ${String(cut)}`);
  });

  it('gives the same result for a stream cut twice anywhere in its small messages (headers split over three chunks)', () => {
    const small = stream.length - big.length - tail.length;
    for (let a = 1; a < small; a += 1) for (let b = a + 1; b <= small; b += 1) check(scan(stream, [a, b]), `cuts at ${String(a)}, ${String(b)}`);
  });

  it('gives the same result for a stream read a byte at a time', () => {
    check(
      scan(
        stream,
        Array.from({ length: stream.length }, (_, i) => i),
      ),
      'one byte a chunk',
    );
  });

  it('ends at an error in the middle of the rows, handing the error on with what follows', () => {
    const error = message('E', 'SERROR\0C22012\0Mdivision by zero\0\0');
    const s = Buffer.concat([rows[0] as Buffer, error, message('Z', 'I')]);
    for (let cut = 0; cut < s.length; cut += 1) {
      const seen = scan(s, cut === 0 ? [] : [cut]);
      assert.ok(seen.data.equals(rows[0] as Buffer), `cut ${String(cut)}`);
      assert.ok(seen.rest?.equals(s.subarray((rows[0] as Buffer).length)), `cut ${String(cut)}: the error and ReadyForQuery go to pg`);
    }
  });

  it('refuses a message length below its own four bytes', () => {
    const scanner = new CopyFrameScanner({ data: () => undefined, other: () => undefined, end: () => undefined });
    assert.throws(() => scanner.feed(Buffer.from([0x64, 0, 0, 0, 2])), /invalid length 2/);
  });
});
