// repair's pieces without a server: the merge of two key-ordered streams (differences, order
// checks, integer and byte-ordered keys), the fixing statements, and the column fit of add-table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnInfo } from '@skytools/core';
import { columnMismatch, diffSortedRows, RowFixer, type RowDifference } from '@skytools/londiste/internal';

async function* lines(xs: string[]): AsyncGenerator<string> {
  for (const x of xs) yield await Promise.resolve(x);
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('repair merge', () => {
  it('finds missing, changed and extra rows by integer key, negative keys included', async () => {
    const root = ['-10\th1\t-10\ta', '-9\th2\t-9\tb', '2\th3\t2\tc', '10\th4\t10\td'];
    const local = ['-10\th1', '2\tXX', '3\th9', '10\th4'];
    const seen: RowDifference[] = [];
    const c = await diffSortedRows(lines(root), lines(local), ['integer'], 't', (d) => Promise.resolve(void seen.push(d)));
    assert.deepEqual(seen, [
      { kind: 'missing', row: ['-9', 'b'] },
      { kind: 'changed', row: ['2', 'c'], localHash: 'XX' },
      { kind: 'extra', key: ['3'], localHash: 'h9' },
    ]);
    assert.deepEqual(c, { rootRows: 4, localRows: 4, missing: 1, changed: 1, extra: 1 });
  });

  it('orders other keys by their UTF-8 bytes (a prefix first; astral characters after U+FFxx)', async () => {
    const keys = ['a', 'ab', 'b', 'ｱ', '😀'];
    assert.deepEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))), keys);
    const root = keys.map((k) => `${hex(k)}\th\t${k}`);
    const local = [`${hex('a')}\th`, `${hex('ab')}\th`, `${hex('ｱ')}\th`, `${hex('😀')}\th`, `${hex('😀z')}\th`];
    const seen: RowDifference[] = [];
    await diffSortedRows(lines(root), lines(local), ['bytes'], 't', (d) => Promise.resolve(void seen.push(d)));
    assert.deepEqual(seen, [{ kind: 'missing', row: ['b'] }, { kind: 'extra', key: ['😀z'], localHash: 'h' }]);
  });

  it('stops when a side is out of order instead of reporting equal rows as different', async () => {
    await assert.rejects(diffSortedRows(lines(['1\th\t1', '3\th\t3', '2\th\t2']), lines([]), ['integer'], 'repair of t', () => Promise.resolve()), /repair of t on the root: rows arrive out of key order/);
  });

  it('writes statements with literals for NULLs, quotes and backslashes; skips generated columns', () => {
    const f = new RowFixer('s.t', ['id', 'v', 'g'], ['id'], new Set(['g']), true);
    assert.equal(f.insert(['1', "it's", 'x']), `INSERT INTO s.t (id, v) OVERRIDING SYSTEM VALUE VALUES ('1', 'it''s') ON CONFLICT (id) DO NOTHING;`);
    // UPDATE and DELETE only touch the row while it is still as it was (its hash)
    const guard = 'hashtextextended(ROW(t.id, t.v, t.g)::text, 0)';
    assert.equal(f.update(['1', null, 'x'], '-42'), `UPDATE s.t t SET v = NULL WHERE id = '1' AND ${guard} = -42;`);
    assert.equal(f.delete(['a\\b'], '7'), `DELETE FROM s.t t WHERE id = E'a\\\\b' AND ${guard} = 7;`);
    assert.match(f.begin('12'), /tick 12[^]*BEGIN;\nSET LOCAL session_replication_role = 'replica';\nSET LOCAL TimeZone = 'UTC';/);
    // a DEFERRABLE key cannot be an ON CONFLICT arbiter: the insert skips a present key itself
    const d = new RowFixer('s.t', ['id', 'k', 'v'], ['id', 'k'], new Set(), false, true);
    assert.equal(d.insert(['1', 'a', null]), `INSERT INTO s.t (id, k, v) SELECT '1', 'a', NULL WHERE NOT EXISTS (SELECT 1 FROM s.t t WHERE t.id = '1' AND t.k = 'a');`);
  });
});

describe('column fit', () => {
  const col = (name: string, type: string, category: string, more: Partial<ColumnInfo> = {}): ColumnInfo => ({ name, type, category, notnull: false, def: null, pk: false, builtin: true, generated: false, identity: '', ...more });
  it('accepts the same columns, widened types, anything into text, nullable or defaulted extras', () => {
    const src = [col('id', 'integer', 'N', { pk: true, notnull: true }), col('v', 'character varying(10)', 'S'), col('n', 'integer', 'N')];
    const dst = [col('id', 'bigint', 'N', { pk: true, notnull: true }), col('v', 'text', 'S'), col('n', 'text', 'S'), col('extra', 'text', 'S'), col('d', 'integer', 'N', { notnull: true, def: '0' })];
    assert.deepEqual(columnMismatch(src, dst, new Set()), []);
  });
  it('names a missing column, a type that cannot read the text, and a NOT NULL extra without default', () => {
    const src = [col('id', 'integer', 'N'), col('b', 'text', 'S'), col('ts', 'timestamp with time zone', 'D')];
    const dst = [col('id', 'integer', 'N'), col('ts', 'integer', 'N'), col('must', 'integer', 'N', { notnull: true })];
    assert.deepEqual(columnMismatch(src, dst, new Set()), [
      'column b (text) is missing here',
      'column ts is timestamp with time zone on the provider but integer here',
      'column must here is NOT NULL without a default and not on the provider',
    ]);
    assert.deepEqual(columnMismatch(src, dst, new Set(['ts']), new Set(['must'])), ['column b (text) is missing here']);
    // text into uuid, json or a date is up to the values; a zone-less timestamp would shift times
    const texts = [col('u', 'text', 'S'), col('j', 'character varying', 'S'), col('tz', 'timestamp with time zone', 'D')];
    const typed = [col('u', 'uuid', 'U'), col('j', 'jsonb', 'U'), col('tz', 'timestamp without time zone', 'D')];
    assert.deepEqual(columnMismatch(texts, typed, new Set()), ['column tz is timestamp with time zone on the provider but timestamp without time zone here']);
  });
});
