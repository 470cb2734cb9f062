/**
 * Pid files: a daemon or a foreground worker claims one at start (refused while the pid in it is
 * alive), removes it at exit; `--reload`/`--stop` read it to signal the running instance.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError } from './errors.js';

function readPid(pidfile: string): number | undefined {
  if (!existsSync(pidfile)) return undefined;
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class PidFile {
  private constructor(readonly path: string) {}

  /** Write our pid to `path`; refused when another live process holds it (`what` names it in the message). */
  static claim(path: string, what: string): PidFile {
    const pid = readPid(path);
    if (pid !== undefined && pid !== process.pid && alive(pid)) {
      throw new UsageError(`${what} is already running (pid ${pid}, pidfile ${path}); stop it first`);
    }
    writeFileSync(path, `${process.pid}\n`, { mode: 0o640 });
    return new PidFile(path);
  }

  /** Remove the file if it still names this process. */
  release(): void {
    if (readPid(this.path) === process.pid) rmSync(this.path, { force: true });
  }
}

/** The pid a pid file names; throws a UsageError saying what is wrong. */
function pidOf(pidfile: string | undefined, program: string): number {
  if (pidfile === undefined) throw new UsageError(`${program}: no pidfile configured to find the running instance (set pidfile)`);
  if (!existsSync(pidfile)) throw new UsageError(`${program}: pidfile ${pidfile} does not exist; is it running?`);
  const pid = readPid(pidfile);
  if (pid === undefined) throw new UsageError(`${program}: pidfile ${pidfile} does not hold a pid`);
  return pid;
}

function signal(pid: number, sig: NodeJS.Signals, pidfile: string | undefined, program: string): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    throw new UsageError(`${program}: cannot signal pid ${pid} from ${pidfile ?? ''}: ${(err as Error).message}`, { cause: err });
  }
}

/** Send a signal to the process named in a pid file; throws a UsageError saying what is wrong. */
export function signalPidfile(pidfile: string | undefined, sig: 'SIGHUP' | 'SIGTERM', program: string): void {
  signal(pidOf(pidfile, program), sig, pidfile, program);
}

/**
 * `-k`: kill the process named in a pid file at once (SIGKILL; replication work in flight is
 * redone from the last committed batch at its next start) and remove the file once it is gone.
 */
export async function killPidfile(pidfile: string | undefined, program: string): Promise<void> {
  const pid = pidOf(pidfile, program);
  signal(pid, 'SIGKILL', pidfile, program);
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) throw new UsageError(`${program}: pid ${pid} from ${pidfile ?? ''} is still alive 5s after SIGKILL`);
  if (pidfile !== undefined) rmSync(pidfile, { force: true });
}
