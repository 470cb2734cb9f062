/** COPY text-format encoding of values that are already in PostgreSQL's text representation. */

/** One field: NULL as \N, backslash, tab, newline and carriage return escaped. */
export function copyField(v: string | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 9 || c === 10 || c === 13) {
      needs = true;
      break;
    }
  }
  if (!needs) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** One row: fields joined by tabs, ended by a newline. */
export function copyLine(values: readonly (string | null | undefined)[]): string {
  return values.map(copyField).join('\t') + '\n';
}
