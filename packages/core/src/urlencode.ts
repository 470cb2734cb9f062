/**
 * The urlencoded key=value format PgQ uses for row data (logutriga) and attributes
 * (table_attrs, node_attrs): pairs joined by '&', key and value percent-encoded, '+' for space
 * on decode, a key without '=' meaning NULL. forEachPair is the one scanner of that format.
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
  // most values (numbers, plain words) carry neither: no copy, no decoder call
  const plus = s.includes('+');
  const pct = s.includes('%');
  if (!plus && !pct) return s;
  const t = plus ? s.replaceAll('+', ' ') : s;
  return pct ? decodeURIComponent(t) : t;
}

/** Does a raw (still encoded) key or value need decoding? */
export function isEncoded(raw: string): boolean {
  return raw.includes('%') || raw.includes('+');
}

/**
 * Call fn for each pair of `text` in order, with the key and value as they stand in the text
 * (still encoded; value null for a key without '='). Empty pairs (`a=1&&b=2`) are skipped.
 */
export function forEachPair(text: string, fn: (rawKey: string, rawValue: string | null) => void): void {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      if (eq >= 0 && eq < end) fn(text.slice(start, eq), text.slice(eq + 1, end));
      else fn(text.slice(start, end), null);
    }
    start = end + 1;
  }
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
  forEachPair(text, (rawKey, rawValue) => {
    let key = keys?.get(rawKey);
    if (key === undefined) {
      key = urlDecodePart(rawKey);
      keys?.set(rawKey, key);
    }
    out[key] = rawValue === null ? null : urlDecodePart(rawValue);
  });
  return out;
}
