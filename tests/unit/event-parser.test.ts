// The readers of capture events: the events applied one by one (every encoding the triggers
// write), the event stager that takes row events to the batch stage byte by byte (urlencoded rows
// to JSON with escapes and NULLs, JSON rows as they are, layouts), and clear errors for events
// that do not parse. No database needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EventStager, isDataEvent, layoutColumns, parseDataEvent, type EventFields } from '@skytools/londiste/internal';

const ev = (ev_type: string | null, ev_data: string | null, ev_extra1: string | null = 'public.t'): EventFields => ({
  ev_id: '42',
  ev_txid: '1000',
  ev_type,
  ev_data,
  ev_extra1,
});

describe('event parser', () => {
  it('tells data events from control events', () => {
    for (const t of ['I:id', 'U:id,k', 'D:id', 'I', 'U', 'D', 'R', '{"op":"INSERT","table":["public","t"],"pkey":["id"]}']) {
      assert.equal(isDataEvent(t), true, t);
    }
    for (const t of [null, 'pgq.location-info', 'londiste.add-table', 'EXECUTE', 'X:id', '']) assert.equal(isDataEvent(t), false, String(t));
  });

  it('reads logutriga, jsontriga, sqltriga and TRUNCATE events', () => {
    assert.deepEqual(parseDataEvent(ev('U:id', 'id=1&v=a')), { kind: 'encoded', table: 'public.t', op: 'U', text: 'id=1&v=a' });
    assert.deepEqual(parseDataEvent(ev('I', "(id,v) values ('1','a')")), { kind: 'sql', table: 'public.t', op: 'I', sql: "(id,v) values ('1','a')" });
    assert.deepEqual(parseDataEvent(ev('R', null)), { kind: 'truncate', table: 'public.t' });
    const json = parseDataEvent(ev('{"op":"UPDATE","table":["public","t"],"pkey":["id"]}', '{"id":1,"v":"x","b":true,"n":null,"j":{"a":[1]}}'));
    assert.deepEqual(json, { kind: 'row', table: 'public.t', op: 'U', row: { id: '1', v: 'x', b: 't', n: null, j: '{"a":[1]}' } });
    assert.deepEqual(parseDataEvent(ev('{"op":"TRUNCATE","table":["public","t"]}', null)), { kind: 'truncate', table: 'public.t' });
  });

  it('refuses events it cannot read, naming the event and the table', () => {
    assert.throws(() => parseDataEvent(ev('I:id', 'id=1', null)), /event 42 \(I:id\) has no table name/);
    assert.throws(() => parseDataEvent(ev('I:id', null)), /event 42 \(I:id\) of public\.t has no row data/);
    assert.throws(() => parseDataEvent(ev('{"op":"MERGE"}', '{}')), /event 42 of public\.t: unknown JSON operation MERGE/);
  });

  const stagerInput = (): Buffer[] => {
    const line = (type: string, data: string | null, table = 'public.t'): string =>
      ['42', '2026-12-02 10:00:00+00', '1000', type, data ?? '\\N', table, '\\N', '\\N', '\\N'].join('\t') + '\n';
    const input = Buffer.from(
      line('U:id', 'id=1&v=a+b%26c&n&e=') +
        line('I:id', '%e5%be%b7=%e5%93%a5&q=%22%5c%09%0a%01%0d') +
        line('{"op":"DELETE","table":["public","t"],"pkey":["id"]}', '{"id":1}') +
        line('R', null) +
        line('londiste.add-table', 'public.x', 'public.x'),
    );
    // cut inside a multi-byte escape and inside a line: the stager must not care
    return [input.subarray(0, 50), input.subarray(50, 97), input.subarray(97)];
  };
  const runStager = async (stager: EventStager): Promise<string[][]> => {
    const out: Buffer[] = [];
    stager.on('data', (b: Buffer) => out.push(b));
    await pipeline(Readable.from(stagerInput()), stager);
    assert.deepEqual([stager.events, stager.rowEvents, stager.jsonRows], [5, 3, 1]);
    return Buffer.concat(out).toString('utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  };

  it('stages urlencoded rows as text arrays, byte by byte, across chunk boundaries', async () => {
    const rows = await runStager(new EventStager());
    assert.deepEqual(rows.map((r) => r.slice(9)), [
      ['U', 'a:id&v&n&e', '{"1","a b&c",NULL,""}', '\\N'],
      // quote and backslash: array escapes, their backslashes doubled for COPY; tab, newline, CR: COPY escapes
      ['I', 'a:%e5%be%b7&q', String.raw`{"哥","\\"\\\\\t\n` + '\u0001' + String.raw`\r"}`, '\\N'],
      ['D', '\\N', '\\N', '{"id":1}'],
      ['\\N', '\\N', '\\N', '\\N'],
      ['\\N', '\\N', '\\N', '\\N'],
    ]);
    // ev_data kept as it came
    assert.deepEqual([rows[0]?.[4], rows[4]?.[4]], ['id=1&v=a+b%26c&n&e=', 'public.x']);
    assert.deepEqual(layoutColumns('a:%e5%be%b7&q'), ['德', 'q']);
    assert.deepEqual(layoutColumns('u:%e5%be%b7&q'), ['德', 'q']);
    assert.deepEqual(layoutColumns('j:["id","v"]'), ['id', 'v']);
  });

  it('stages urlencoded rows as JSON when asked, and leaves row events\' ev_data out when asked', async () => {
    const rows = await runStager(new EventStager({ rowValues: 'json', keepRowData: false }));
    assert.deepEqual(rows.map((r) => r.slice(9)), [
      ['U', 'u:id&v&n&e', '\\N', '{"id":"1","v":"a b&c","n":null,"e":""}'],
      // quote, backslash, tab, newline and control bytes: JSON escapes, their backslashes doubled for COPY
      ['I', 'u:%e5%be%b7&q', '\\N', String.raw`{"德":"哥","q":"\\"\\\\\\u0009\\u000a\\u0001\\u000d"}`],
      ['D', '\\N', '\\N', '{"id":1}'],
      ['\\N', '\\N', '\\N', '\\N'],
      ['\\N', '\\N', '\\N', '\\N'],
    ]);
    // row events without ev_data (a JSON row's image is in ld_row); the others keep theirs
    assert.deepEqual(rows.map((r) => r[4]), ['\\N', '\\N', '\\N', '\\N', 'public.x']);
    assert.deepEqual(rows.map((r) => r.slice(0, 4).concat(r.slice(5, 9))), Array(5).fill(0).map((_, i) => ['42', '2026-12-02 10:00:00+00', '1000', rows[i]?.[3] ?? '', i === 4 ? 'public.x' : 'public.t', '\\N', '\\N', '\\N']));
  });

  it('unescapes a COPY-escaped urlencoded row once, and leaves out pairs without a key', async () => {
    // in COPY text: a backslash (\\) and a tab (\t) in v, a backslash %-encoded in w, a pair '=x'
    const input = String.raw`1	\N	1	I:id	id=1&v=a\\b\tc&=x&w=%5C	public.t	\N	\N	\N` + '\n';
    for (const [opts, cols, image] of [
      [{}, 'a:id&v&w', String.raw`{"1","a\\\\b\tc","\\\\"}`],
      [{ rowValues: 'json' }, 'u:id&v&w', String.raw`{"id":"1","v":"a\\\\b\\u0009c","w":"\\\\"}`],
    ] as const) {
      const stager = new EventStager(opts);
      const out: Buffer[] = [];
      stager.on('data', (b: Buffer) => out.push(b));
      await pipeline(Readable.from([Buffer.from(input)]), stager);
      const f = Buffer.concat(out).toString('utf8').replace(/\n$/, '').split('\t');
      assert.deepEqual([f[10], 'rowValues' in opts ? f[12] : f[11]], [cols, image]);
    }
  });

  it('refuses broken urlencoded rows and lines', async () => {
    const stage = async (text: string): Promise<void> => {
      await pipeline(Readable.from([Buffer.from(text)]), new EventStager(), new Writable({ write: (_c, _e, cb) => cb() }));
    };
    await assert.rejects(stage('1\t\\N\t1\tI:id\tid=%zz\tpublic.t\t\\N\t\\N\t\\N\n'), /broken %-escape/);
    await assert.rejects(stage('1\t2\t3\n'), /3 fields, 9 expected/);
  });
});
