/**
 * The `passfile` connection option, as libpq reads it: lines `host:port:database:user:password`,
 * `*` matching anything, `\:` and `\\` escaping; the first matching line gives the password. So
 * that connection strings (which pgq_node stores in clear in node_location) need no password.
 * libpq ignores a file others may read, with a warning; here that is an error, never a silent miss.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { UsageError } from './errors.js';

export interface PassfileTarget {
  host: string | undefined;
  port: number | undefined;
  database: string | undefined;
  user: string | undefined;
}

/** One line's fields with the escapes undone; null for a line that is not a full entry. */
function fields(line: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) {
      cur += line[i + 1] ?? '';
      i += 1;
    } else if (c === ':' && out.length < 4) {
      out.push(cur);
      cur = '';
    } else {
      cur += c ?? '';
    }
  }
  out.push(cur);
  return out.length === 5 ? out : null;
}

/** The password for `target` in `file`, or undefined when no line matches. */
export function passwordFromFile(file: string, target: PassfileTarget): string | undefined {
  let text: string;
  try {
    const st = statSync(file);
    if ((st.mode & 0o077) !== 0) {
      throw new UsageError(`passfile ${file} can be read by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`passfile ${file}: ${(err as Error).message}`, { cause: err });
  }
  const user = target.user ?? process.env['PGUSER'] ?? userInfo().username;
  const want = [
    // libpq: no host, or a unix socket, is looked up as localhost
    target.host === undefined || target.host === '' || target.host.startsWith('/') ? 'localhost' : target.host,
    String(target.port ?? 5432),
    target.database ?? user,
    user,
  ];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = fields(line.replace(/\r$/, ''));
    if (f === null) continue;
    if (want.every((w, i) => f[i] === '*' || f[i] === w)) return f[4];
  }
  return undefined;
}
