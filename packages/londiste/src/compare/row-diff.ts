/**
 * The differing rows of two key-ordered streams (repair-statements.ts gives their lines): a merge
 * that holds one line of each side at a time, so memory does not grow with the table. Each side
 * must be strictly increasing by key; a line out of order stops the merge (a wrong order would
 * report equal rows as missing and extra).
 */
import { decodeCopyField, SkytoolsError } from '@skytools/core';
import type { KeyOrder } from '../sql/repair-statements.js';

export type RowDifference =
  /** The root's row is absent here. */
  | { kind: 'missing'; row: (string | null)[] }
  /** The row differs here; `row` is the root's, `localHash` the hash of the row here. */
  | { kind: 'changed'; row: (string | null)[]; localHash: string }
  /** A row here the root does not have, by its key values, with the hash of the row here. */
  | { kind: 'extra'; key: string[]; localHash: string };

export interface DiffCounts {
  rootRows: number;
  localRows: number;
  missing: number;
  changed: number;
  extra: number;
}

function compareIntegers(a: string, b: string): number {
  const na = a.startsWith('-');
  if (na !== b.startsWith('-')) return na ? -1 : 1;
  const c = a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return na ? -c : c;
}

function compareKeys(a: readonly string[], b: readonly string[], orders: readonly KeyOrder[]): number {
  for (const [i, order] of orders.entries()) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    // hex of bytes: equal-length digits per byte, so string order is byte order (a prefix first)
    const c = order === 'integer' ? compareIntegers(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

function keyValue(field: string, order: KeyOrder): string {
  return order === 'integer' ? field : Buffer.from(field, 'hex').toString('utf8');
}

class SortedSide {
  fields: string[] | null = null;
  count = 0;

  constructor(
    private readonly lines: AsyncIterator<string>,
    private readonly orders: readonly KeyOrder[],
    private readonly what: string,
  ) {}

  async advance(): Promise<void> {
    const prev = this.fields;
    const r = await this.lines.next();
    this.fields = r.done === true ? null : r.value.split('\t');
    if (this.fields === null) return;
    this.count += 1;
    if (prev !== null && compareKeys(prev, this.fields, this.orders) >= 0) {
      throw new SkytoolsError(`${this.what}: rows arrive out of key order (row ${String(this.count)}); the key columns do not sort the same way on both sides, nothing was changed`);
    }
  }
}

/** Merge the two streams; `onDiff` is awaited for each difference (the merge waits for it). */
export async function diffSortedRows(
  rootLines: AsyncIterator<string>,
  localLines: AsyncIterator<string>,
  orders: readonly KeyOrder[],
  what: string,
  onDiff: (d: RowDifference) => Promise<void>,
  counts: DiffCounts = { rootRows: 0, localRows: 0, missing: 0, changed: 0, extra: 0 },
): Promise<DiffCounts> {
  const k = orders.length;
  const root = new SortedSide(rootLines, orders, `${what} on the root`);
  const local = new SortedSide(localLines, orders, `${what} on this node`);
  await Promise.all([root.advance(), local.advance()]);
  for (;;) {
    const r = root.fields;
    const l = local.fields;
    if (r === null && l === null) break;
    const c = r === null ? 1 : l === null ? -1 : compareKeys(r, l, orders);
    if (c < 0 && r !== null) {
      counts.missing += 1;
      await onDiff({ kind: 'missing', row: r.slice(k + 1).map(decodeCopyField) });
      await root.advance();
    } else if (c > 0 && l !== null) {
      counts.extra += 1;
      await onDiff({ kind: 'extra', key: l.slice(0, k).map((f, i) => keyValue(f, orders[i] ?? 'bytes')), localHash: l[k] ?? '' });
      await local.advance();
    } else if (r !== null) {
      if (r[k] !== l?.[k]) {
        counts.changed += 1;
        await onDiff({ kind: 'changed', row: r.slice(k + 1).map(decodeCopyField), localHash: l?.[k] ?? '' });
      }
      await Promise.all([root.advance(), local.advance()]);
    }
    counts.rootRows = root.count;
    counts.localRows = local.count;
  }
  return counts;
}
