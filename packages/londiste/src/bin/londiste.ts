#!/usr/bin/env node
// londiste JOB.yaml COMMAND [ARGS]: admin commands print results on stdout and log on stderr
// (and to the job's logfile). Errors are one line on stderr and exit code 1.
import { CommandFailedError, createLogger, describeError, maskSecrets } from '@skytools/core';
import { runAdminCli } from '../admin-cli.js';

try {
  const code = await runAdminCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    makeLogger: (job, level) => createLogger({ level, ...(job?.logfile !== undefined ? { logfile: job.logfile, alsoStderr: true } : {}) }),
  });
  process.exitCode = code;
} catch (err) {
  // a refused command has logged its notes already
  if (!(err instanceof CommandFailedError)) process.stderr.write(`ERROR ${maskSecrets(describeError(err))}\n`);
  process.exitCode = 1;
}
