/**
 * The urlencoded key=value format PgQ uses for row data (logutriga) and attributes
 * (table_attrs, node_attrs): pairs joined by '&', key and value percent-encoded, '+' for space
 * on decode, a key without '=' meaning NULL.
 */

const SAFE = /[A-Za-z0-9_.\-~]/;

function encodePart(s: string): string {
  let out = '';
  for (const ch of s) {
    if (SAFE.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodePart(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

export function urlEncode(data: Readonly<Record<string, string | null | undefined>>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (v === null ? encodePart(k) : `${encodePart(k)}=${encodePart(v as string)}`))
    .join('&');
}

export function urlDecode(text: string | null | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (text === null || text === undefined || text === '') return out;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) out[decodePart(part)] = null;
    else out[decodePart(part.slice(0, eq))] = decodePart(part.slice(eq + 1));
  }
  return out;
}
