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

/** Decode one urlencoded key or value ('+' is a space, %xx a byte of UTF-8 text). */
export function urlDecodePart(s: string): string {
  return decodePart(s);
}

function decodePart(s: string): string {
  // most values (numbers, plain words) carry neither: no copy, no decoder call
  const plus = s.includes('+');
  const pct = s.includes('%');
  if (!plus && !pct) return s;
  const t = plus ? s.replaceAll('+', ' ') : s;
  return pct ? decodeURIComponent(t) : t;
}

export function urlEncode(data: Readonly<Record<string, string | null | undefined>>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (v === null ? encodePart(k) : `${encodePart(k)}=${encodePart(v as string)}`))
    .join('&');
}

/**
 * Decode `a=1&b&c=x+y` into `{a: '1', b: null, c: 'x y'}`. `keys` caches decoded keys: row events
 * of one table repeat the same column names millions of times.
 */
export function urlDecode(text: string | null | undefined, keys?: Map<string, string>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (text === null || text === undefined || text === '') return out;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const rawKey = text.slice(start, hasValue ? eq : end);
      let key = keys?.get(rawKey);
      if (key === undefined) {
        key = decodePart(rawKey);
        keys?.set(rawKey, key);
      }
      out[key] = hasValue ? decodePart(text.slice(eq + 1, end)) : null;
    }
    start = end + 1;
  }
  return out;
}
