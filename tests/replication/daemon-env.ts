/**
 * Daemons as a user runs them, for lifecycle tests: the built `londisted` and `pgqd` binaries as
 * child processes (their output captured), and the database backends a job's worker holds,
 * found by application_name in pg_stat_activity.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, type PgCluster } from '@skytools/harness';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  proc: ChildProcess;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  exited: Promise<Exit>;
  running: () => boolean;
  /** SIGTERM, SIGKILL after `killAfterMs`; resolves with the exit. Safe to call twice. */
  stop: (killAfterMs?: number) => Promise<Exit>;
}

export function londistedBin(): string {
  return join(repoRoot(), 'packages', 'londiste', 'dist', 'bin', 'londisted.js');
}

export function pgqdBin(): string {
  return join(repoRoot(), 'packages', 'pgqd', 'dist', 'bin', 'pgqd.js');
}

export function spawnDaemon(script: string, args: readonly string[]): Daemon {
  return spawnProgram(process.execPath, [script, ...args]);
}

/**
 * Any program as a daemon (upstream's pgqd or londiste in interop tests); `cwd` for relative paths
 * in its config, `env` added to this process's environment (NOTIFY_SOCKET and friends).
 */
export function spawnProgram(command: string, args: readonly string[], cwd?: string, env?: NodeJS.ProcessEnv): Daemon {
  const script = command;
  const proc = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }), ...(env === undefined ? {} : { env: { ...process.env, ...env } }) });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let done = false;
  const exited = new Promise<Exit>((resolve) =>
    proc.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  if (proc.pid === undefined) throw new Error(`could not start ${script}`);
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    exited,
    running: () => !done,
    stop: async (killAfterMs = 30_000) => {
      if (!done) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
}

/** The content of a text file (a log, a job file), empty while it does not exist. */
export function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function countMatches(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))].length;
}

export interface Backend {
  pid: number;
  waitEventType: string | null;
  state: string | null;
}

/** Backends of database `db` whose application_name is exactly `app` (a job's worker: `londiste JOB`). */
export async function backends(cluster: PgCluster, db: string, app: string): Promise<Backend[]> {
  const r = await cluster.query<{ pid: number; wait_event_type: string | null; state: string | null }>(
    db,
    'SELECT pid, wait_event_type, state FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 ORDER BY pid',
    [db, app],
  );
  return r.map((x) => ({ pid: x.pid, waitEventType: x.wait_event_type, state: x.state }));
}

/** The last `n` lines of a text, for diagnostics. */
export function tail(text: string, n = 25): string {
  return text.split('\n').slice(-n - 1).join('\n');
}

/** Run a Node script (a built binary) to completion, capturing its output. */
export { runScript, type RunResult as ProcessResult } from '../cli/run-londiste.js';

/** The promise's value, or undefined when it takes longer than `ms` (the timer does not outlive it). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
