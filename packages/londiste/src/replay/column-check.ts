/**
 * Whether a local table can hold what the provider's table sends: every provider column present
 * here with a type that reads its text, and no column here that would stay empty by force. A copy
 * into a table missing a column would succeed and leave wrong data behind for good (the rows
 * copied before the column is added keep NULL there), so add-table and each copy refuse it.
 */
import type pg from 'pg';
import { catalog, type ColumnInfo } from '@skytools/core';

/**
 * Can a value of type `from` (provider) be stored in a column of type `to` (here) by its text?
 * The same family (int4 -> int8, varchar -> text), anything into a string, and a string into
 * anything (text holding uuids, json, dates: the values decide, and a bad one stops the copy with
 * PostgreSQL's message). Refused: other families (a timestamp into an integer), and a timestamp
 * with time zone into one without (its offset would be dropped: the times shift silently).
 */
function typesFit(from: ColumnInfo, to: ColumnInfo): boolean {
  if (from.type === to.type) return true;
  if (from.type.startsWith('timestamp') && from.type.includes('with time zone') && to.type.startsWith('timestamp') && to.type.includes('without time zone')) return false;
  return from.category === to.category || to.category === 'S' || from.category === 'S';
}

/**
 * The differences that stop replication into `target`, one phrase each; empty when it fits.
 * `generatedHere`: generated columns here (never written); `filledHere`: identity columns here.
 */
export function columnMismatch(source: readonly ColumnInfo[], target: readonly ColumnInfo[], generatedHere: ReadonlySet<string>, filledHere: ReadonlySet<string> = new Set()): string[] {
  const here = new Map(target.map((c) => [c.name, c]));
  const there = new Set(source.map((c) => c.name));
  const problems: string[] = [];
  for (const s of source) {
    const t = here.get(s.name);
    if (t === undefined) problems.push(`column ${s.name} (${s.type}) is missing here`);
    else if (!generatedHere.has(t.name) && !typesFit(s, t)) problems.push(`column ${s.name} is ${s.type} on the provider but ${t.type} here`);
  }
  for (const t of target) {
    if (there.has(t.name) || !t.notnull || t.def !== null || generatedHere.has(t.name) || filledHere.has(t.name)) continue;
    problems.push(`column ${t.name} here is NOT NULL without a default and not on the provider`);
  }
  return problems;
}

/** columnMismatch of what was read of both tables; nothing when either is not found (checked elsewhere). */
export function columnProblems(source: readonly ColumnInfo[], target: readonly ColumnInfo[], computedHere: { generated: readonly string[]; identity: readonly string[] }): string[] {
  if (source.length === 0 || target.length === 0) return [];
  return columnMismatch(source, target, new Set(computedHere.generated), new Set(computedHere.identity));
}

/** The local side of checkColumns, read beforehand: the local tables' columns (catalog.columnsOf). */
export interface LocalColumns {
  columns: ReadonlyMap<string, ColumnInfo[]>;
}

/**
 * columnProblems of each pair's provider table `source` and local table `dest`: the provider's
 * read in one round trip, the local ones given.
 */
export async function checkColumns(provider: pg.ClientBase, local: LocalColumns, pairs: readonly { source: string; dest: string }[]): Promise<string[][]> {
  const src = await catalog.columnsOf(provider, pairs.map((p) => p.source));
  return pairs.map((p) => {
    const here = local.columns.get(p.dest) ?? [];
    return columnProblems(src.get(p.source) ?? [], here, catalog.computedOf(here));
  });
}
