/**
 * Connection strings: libpq `key=value` strings and `postgres://` URLs.
 * Only parsing and masking live here; connecting is the db module's job.
 */
import { UsageError } from './errors.js';

export type ConnParams = Record<string, string>;

const URL_PREFIX = /^postgres(?:ql)?:\/\//i;

/** Parse a libpq keyword/value string, honouring single quotes and backslash escapes. */
export function parseKeyValueConnstr(connstr: string): ConnParams {
  const out: ConnParams = {};
  let i = 0;
  const n = connstr.length;
  const skipSpace = (): void => {
    while (i < n && /\s/.test(connstr[i] ?? '')) i++;
  };
  while (true) {
    skipSpace();
    if (i >= n) break;
    let key = '';
    while (i < n && /[A-Za-z0-9_]/.test(connstr[i] ?? '')) key += connstr[i++];
    skipSpace();
    if (key === '' || connstr[i] !== '=') {
      throw new UsageError(`invalid connection string near position ${i}: expected key=value (got ${JSON.stringify(connstr.slice(i, i + 20))})`);
    }
    i++;
    skipSpace();
    let value = '';
    if (connstr[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = connstr[i++];
        if (c === '\\' && i < n) value += connstr[i++];
        else if (c === "'") {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) throw new UsageError(`invalid connection string: unterminated quoted value for "${key}"`);
    } else {
      while (i < n && !/\s/.test(connstr[i] ?? '')) {
        const c = connstr[i++];
        if (c === '\\' && i < n) value += connstr[i++];
        else value += c;
      }
    }
    out[key] = value;
  }
  return out;
}

/** Parse a `postgres://user:pass@host:port/db?opt=val` URL into libpq keywords. */
export function parseUrlConnstr(connstr: string): ConnParams {
  let url: URL;
  try {
    url = new URL(connstr);
  } catch (err) {
    throw new UsageError('invalid connection URL: it does not parse as postgres://user@host:port/dbname', { cause: err });
  }
  const out: ConnParams = {};
  if (url.hostname !== '') out['host'] = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
  if (url.port !== '') out['port'] = url.port;
  if (url.username !== '') out['user'] = decodeURIComponent(url.username);
  if (url.password !== '') out['password'] = decodeURIComponent(url.password);
  const db = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (db !== '') out['dbname'] = db;
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

export function parseConnstr(connstr: string): ConnParams {
  return URL_PREFIX.test(connstr.trim()) ? parseUrlConnstr(connstr.trim()) : parseKeyValueConnstr(connstr);
}

function formatValue(v: string): string {
  if (v !== '' && !/[\s'\\]/.test(v)) return v;
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Render libpq keywords back to a `key=value` string. */
export function formatConnstr(params: ConnParams): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
}

/**
 * The form fit for logs and status output: the password is dropped and replaced by `[...]`,
 * as upstream's logs show it (`host=... dbname=digoal_01 [...]`).
 * Strings that do not parse are hidden entirely rather than risk leaking a secret.
 */
export function maskConnstr(connstr: string): string {
  let params: ConnParams;
  try {
    params = parseConnstr(connstr);
  } catch {
    return '[unparsable connection string hidden]';
  }
  const hadSecret = 'password' in params;
  delete params['password'];
  const shown = formatConnstr(params);
  return hadSecret ? `${shown} [...]` : shown;
}

/**
 * Hide passwords inside free text that may embed connection strings (SQL statements, error
 * messages): `password=...` values (quoted or not) and the password part of URLs.
 */
export function maskSecrets(text: string): string {
  return text
    .replace(/(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'",&]+)/gi, '$1[...]')
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1[...]@');
}
