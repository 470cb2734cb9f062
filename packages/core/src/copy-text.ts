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

const COPY_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * One field of COPY TO's text format back to the value's text: \N alone is NULL; backslash escapes
 * (the letters, octal \NNN and hex \xHH that COPY accepts) are undone.
 */
export function decodeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/gs, (_m, e: string) => {
    if (e.length > 1 || (e >= '0' && e <= '7')) {
      return String.fromCharCode(e.startsWith('x') ? parseInt(e.slice(1), 16) : parseInt(e, 8));
    }
    return COPY_ESCAPES[e] ?? e;
  });
}
