#!/usr/bin/env node
// londiste JOB.yaml COMMAND [ARGS] (JOB.ini: upstream's format): admin commands print results on stdout and log on stderr
// (and to the job's logfile). Errors are one line on stderr and exit code 1. `londiste JOB worker` under a systemd unit of
// Type=notify (londiste-worker@.service) tells systemd when it is ready, reloading and stopping.
// before anything that loads pg (see there)
import '@skytools/core/runtime-globals';
import { CommandFailedError, createLogger, describeError, maskSecrets, serviceNotifier, type ClosableLogger, type ServiceNotifier } from '@skytools/core';
import { runAdminCli } from '../admin-cli.js';

// output piped into a reader that stopped early (`| head`): the rest of the output goes nowhere,
// and the command still finishes (a repair --apply must not stop half-way) with its own exit code
let stdoutGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutGone = true;
});

const stop = new AbortController();
let signals = 0;
let log: ClosableLogger | undefined;
let notify: ServiceNotifier | undefined;
const onSignal = (): void => {
  signals += 1;
  // the first signal lets the batch in flight commit; a second one does not wait
  if (signals > 1) process.exit(1);
  notify?.stopping();
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// until a worker registers its reload, SIGHUP must not kill an admin command (the default action)
let reload: (() => void) | undefined;
process.on('SIGHUP', () => {
  if (reload === undefined) return;
  notify?.reloading();
  // logrotate's postrotate signal: the job's logfile is opened again at its path
  try {
    log?.reopen();
  } catch (err) {
    log?.error(`${describeError(err)}; logging goes on where it went`);
  }
  reload();
  notify?.ready();
});

try {
  const code = await runAdminCli(process.argv.slice(2), {
    signal: stop.signal,
    out: (line) => {
      if (!stdoutGone) process.stdout.write(`${line}\n`);
    },
    // called once the worker holds its pidfile and starts: what READY=1 means for the other daemons too
    onReload: (fn) => {
      reload = fn;
      if (log !== undefined) {
        notify = serviceNotifier(log);
        notify.ready();
      }
    },
    makeLogger: (job, level) => {
      log = createLogger({ level, ...(job?.logfile !== undefined ? { logfile: job.logfile, alsoStderr: true } : {}) });
      return log;
    },
  });
  process.exitCode = code;
} catch (err) {
  // a refused command has logged its notes already
  if (!(err instanceof CommandFailedError)) process.stderr.write(`ERROR ${maskSecrets(describeError(err))}\n`);
  process.exitCode = 1;
}
await notify?.close(2000);
