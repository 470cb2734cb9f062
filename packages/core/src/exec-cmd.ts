/**
 * The ret_code/ret_note convention of the cascade and londiste SQL API: functions return rows of
 * (ret_code, ret_note, ...). 1xx is debug chatter, 2xx success, 3xx a warning, 4xx/5xx failure.
 * Admin commands log every note at the matching level and stop on the first failure.
 */
import type pg from 'pg';
import { SkytoolsError } from './errors.js';
import type { Logger } from './logger.js';
import { maskSecrets } from './connstr.js';

/** A command the database refused (ret_code >= 400). Its notes are already logged. */
export class CommandFailedError extends SkytoolsError {
  readonly retCode: number;
  constructor(retCode: number, note: string) {
    super(note);
    this.retCode = retCode;
  }
}

export interface RetRow {
  ret_code: number;
  ret_note: string;
  [key: string]: unknown;
}

/** Render a statement with its parameters inlined, for debug logs (secrets masked). */
export function describeStatement(sql: string, params: readonly unknown[]): string {
  const lit = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (Array.isArray(v)) return `'{${v.map((x) => JSON.stringify(String(x))).join(',')}}'`;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return `'${text.replace(/'/g, "''")}'`;
  };
  const text = sql.replace(/\$(\d+)/g, (m, n: string) => (Number(n) <= params.length ? lit(params[Number(n) - 1]) : m));
  return maskSecrets(text);
}

export interface ExecOptions {
  /** Log 2xx notes at debug instead of info. */
  quiet?: boolean;
}

/** Run a ret_code-style function call, log its notes, throw CommandFailedError on failure. */
export async function execCmd(client: pg.ClientBase, log: Logger, sql: string, params: readonly unknown[] = [], options: ExecOptions = {}): Promise<RetRow[]> {
  log.debug(`exec_cmd: ${describeStatement(sql, params)}`);
  const res = await client.query<RetRow>(sql, params as unknown[]);
  let failed: RetRow | undefined;
  for (const row of res.rows) {
    if (typeof row.ret_code !== 'number') {
      throw new SkytoolsError(`query does not return ret_code/ret_note: ${describeStatement(sql, params)}`);
    }
    const level = Math.floor(row.ret_code / 100);
    if (level <= 1) log.debug(`${row.ret_code} ${row.ret_note}`);
    else if (level === 2) {
      if (options.quiet === true) log.debug(row.ret_note);
      else log.info(row.ret_note);
    }
    else if (level === 3) log.warning(row.ret_note);
    else {
      log.error(row.ret_note);
      failed ??= row;
    }
  }
  if (failed !== undefined) throw new CommandFailedError(failed.ret_code, failed.ret_note);
  return res.rows;
}
