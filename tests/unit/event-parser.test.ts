// The one reader of capture events: every encoding the triggers write, the urlencoded fast path
// to COPY fields (layout reuse, changed layouts, escapes, NULLs), and clear errors for events that
// do not parse. No database needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRow, encodedRowFields, isDataEvent, parseDataEvent, type EventFields } from '@skytools/londiste/internal';

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

  it('decodes urlencoded rows, NULLs and escapes included', () => {
    assert.deepEqual(decodeRow('id=1&v=a+b%26c&n&e='), { id: '1', v: 'a b&c', n: null, e: '' });
    assert.deepEqual(decodeRow('%e5%be%b7=%e5%93%a5'), { 德: '哥' });
  });

  it('takes urlencoded rows to COPY fields, reusing a known layout', () => {
    const first = encodedRowFields('id=1&v=plain&n', null);
    assert.deepEqual(first, { fields: ['1', 'plain', '\\N'], keys: ['id', 'v', 'n'] });
    // same keys: no new layout
    assert.deepEqual(encodedRowFields('id=2&v=x%09y%5c%0a&n=3', ['id', 'v', 'n']), { fields: ['2', 'x\\ty\\\\\\n', '3'], keys: null });
    // fewer, more or other keys: the row's own layout
    assert.deepEqual(encodedRowFields('id=3&v=a', ['id', 'v', 'n']).keys, ['id', 'v']);
    assert.deepEqual(encodedRowFields('id=3&v=a&n=1&extra=2', ['id', 'v', 'n']).keys, ['id', 'v', 'n', 'extra']);
    assert.deepEqual(encodedRowFields('id=3&w=a&n=1', ['id', 'v', 'n']).keys, ['id', 'w', 'n']);
    // keys stay raw (encoded); their decoding is the caller's
    assert.deepEqual(encodedRowFields('caf%c3%a9=1', null).keys, ['caf%c3%a9']);
  });
});
