/** Pid files of the daemons: written at start, used by --reload/--stop to signal the running one. */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** Send a signal to the process named in a pid file; throws a UsageError saying what is wrong. */
export function signalPidfile(pidfile: string | undefined, signal: 'SIGHUP' | 'SIGTERM', program: string): void {
  if (pidfile === undefined) throw new UsageError(`${program}: no pidfile configured to find the running instance (set pidfile)`);
  if (!existsSync(pidfile)) throw new UsageError(`${program}: pidfile ${pidfile} does not exist; is it running?`);
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`${program}: pidfile ${pidfile} does not hold a pid`);
  try {
    process.kill(pid, signal);
  } catch (err) {
    throw new UsageError(`${program}: cannot signal pid ${pid} from ${pidfile}: ${(err as Error).message}`, { cause: err });
  }
}
