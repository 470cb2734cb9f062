/**
 * The plain-text tables of the admin commands (`tables`, `seqs`, `missing`, `members`), laid out
 * as upstream prints them so scripts parsing that output keep working: a description line, the
 * column names, dashes, then rows; every column but the last padded to at least 15 characters
 * plus two spaces; NULL shows as None and booleans as True/False. Nothing at all when empty.
 */

export type Cell = string | number | bigint | boolean | null | undefined;

function show(v: Cell): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

export function formatDisplayTable(description: string, columns: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  if (rows.length === 0) return [];
  const widths = columns.map((_, i) => {
    let w = 15;
    for (const row of rows) {
      const v = row[i];
      // as upstream, empty values (and the column name) do not widen a column
      const len = v === null || v === undefined || v === '' || v === false || v === 0 ? 0 : [...show(v)].length;
      if (len > w) w = len;
    }
    return w + 2;
  });
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...c].length)))).join('');
  const out = [description, line(columns), line(widths.map((w) => '-'.repeat(w - 2)))];
  for (const row of rows) out.push(line(columns.map((_, i) => show(row[i]))));
  out.push('', '');
  return out;
}
