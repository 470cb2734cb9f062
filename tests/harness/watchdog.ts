/**
 * Detached guard for one throw-away cluster: when the test process that started it disappears
 * (failed assertion, uncaught exception, Ctrl-C, kill -9), it stops the server immediately and
 * removes the cluster's directory, so no server and no data directory outlive the tests.
 *
 * Usage: node watchdog.js PARENT_PID BASE_DIR DATA_DIR
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [parentArg, baseArg, dataArg] = process.argv.slice(2);
const parentPid = Number(parentArg);
if (!Number.isInteger(parentPid) || baseArg === undefined || dataArg === undefined) process.exit(2);
const baseDir: string = baseArg;
const dataDir: string = dataArg;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function postmasterPid(): number | undefined {
  try {
    const first = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// A normal stop() removes the directory itself and then kills us; a vanished directory means done.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => undefined); // Ctrl-C is for the tests, not for the guard

while (alive(parentPid) && existsSync(baseDir)) await sleep(250);

if (existsSync(baseDir)) {
  const pid = postmasterPid();
  if (pid !== undefined && alive(pid)) {
    try {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown: children exit with the postmaster
    } catch {
      // already gone
    }
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await sleep(500);
    }
  }
  rmSync(baseDir, { recursive: true, force: true });
}
