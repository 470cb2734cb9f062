/**
 * systemd's readiness protocol (sd_notify) for units of Type=notify: READY=1 once serving,
 * RELOADING=1 ... READY=1 around a SIGHUP, STOPPING=1 on the way out, WATCHDOG=1 pings when the unit
 * sets WatchdogSec=. Without NOTIFY_SOCKET in the environment (not under systemd, or another Type=)
 * every call does nothing.
 *
 * Node cannot send unix datagrams, and the allowed dependencies include no binding that could, so
 * each message is handed to systemd's own `systemd-notify` tool. The sender is then a child
 * process, which is why the units say NotifyAccess=all; systemd-notify waits until the manager has
 * taken the message (its BARRIER=1), so the child exiting first cannot make systemd drop it.
 * Messages go out one at a time, in the order given.
 */
import { execFile } from 'node:child_process';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';

const SEND_TIMEOUT_MS = 10_000;

export interface ServiceNotifier {
  /** Serving (start-up done, or a reload finished either way); starts the watchdog pings. */
  ready(): void;
  /** A reload (SIGHUP) begins; ready() says it ended. */
  reloading(): void;
  /** Shutting down: systemd waits for the exit instead of calling it a crash. */
  stopping(): void;
  /** Stop the watchdog and wait, at most timeoutMs, for the messages already queued (call before exit). */
  close(timeoutMs?: number): Promise<void>;
}

/** CLOCK_MONOTONIC in microseconds, which is what libuv's hrtime reads on Linux. */
function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}

/** Whether the unit asked this process for watchdog pings, and how often to send them (half the timeout, as sd_watchdog_enabled advises). */
function watchdogInterval(env: NodeJS.ProcessEnv): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  const pid = env['WATCHDOG_PID'];
  if (pid !== undefined && pid !== '' && Number(pid) !== process.pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

const NOOP: ServiceNotifier = {
  ready: () => undefined,
  reloading: () => undefined,
  stopping: () => undefined,
  close: () => Promise.resolve(),
};

/**
 * The notifier for this process: a no-op unless NOTIFY_SOCKET is set. A `systemd-notify` that
 * cannot be run is reported once on `log` (systemd then times the start out, so the reason must be
 * in the log).
 */
export function serviceNotifier(log: Logger, env: NodeJS.ProcessEnv = process.env): ServiceNotifier {
  const program = 'systemd-notify';
  const socket = env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') return NOOP;
  const childEnv = { ...env };
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  let warned = false;
  let watchdog: NodeJS.Timeout | undefined;

  const send = (...lines: string[]): void => {
    pending += 1;
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          execFile(program, lines, { env: childEnv, timeout: SEND_TIMEOUT_MS }, (err, _stdout, stderr) => {
            pending -= 1;
            if (err !== null) {
              const why = stderr.trim().split('\n')[0] || describeError(err);
              const message = `cannot tell systemd ${lines[0] ?? ''} through ${program} (NOTIFY_SOCKET=${socket}): ${why}`;
              // once is enough to explain a start that times out; a stuck manager should not flood the log
              if (!warned) log.warning(`${message}; install systemd's systemd-notify or run the unit with Type=exec`);
              else log.debug(message);
              warned = true;
            }
            resolve();
          });
        }),
    );
  };

  return {
    ready: () => {
      send('READY=1');
      const every = watchdogInterval(env);
      if (every !== undefined && watchdog === undefined) {
        // a ping that has not gone out yet is enough: do not pile up children behind a slow manager
        watchdog = setInterval(() => {
          if (pending === 0) send('WATCHDOG=1');
        }, every);
        watchdog.unref();
      }
    },
    reloading: () => send('RELOADING=1', `MONOTONIC_USEC=${monotonicUsec()}`),
    stopping: () => send('STOPPING=1'),
    close: async (timeoutMs = SEND_TIMEOUT_MS) => {
      clearInterval(watchdog);
      watchdog = undefined;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([queue, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    },
  };
}
