#!/usr/bin/env node
// londisted --config londisted.yaml: hosts every job of jobs_dir. SIGHUP reloads the config and
// the jobs directory, SIGTERM/SIGINT stop gracefully (a second signal exits at once).
import { rmSync, writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger, describeError, signalPidfile, SKYTOOLS_TS_VERSION, type LogLevel } from '@skytools/core';
import { loadSupervisorConfig, sampleSupervisorConfig, Supervisor } from '../index.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('londisted')
  .usage('$0 --config londisted.yaml [-v|-q]\n\nSupervisor hosting many Londiste replication jobs in one process.')
  .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration naming jobs_dir' })
  .option('verbose', { alias: 'v', type: 'boolean', describe: 'debug logging' })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'warnings and errors only' })
  .option('ini', { type: 'boolean', describe: 'print a commented sample configuration and exit' })
  .option('reload', { alias: 'r', type: 'boolean', describe: 'tell the running supervisor (pidfile) to reload' })
  .option('stop', { alias: 's', type: 'boolean', describe: 'tell the running supervisor (pidfile) to stop' })
  .version(SKYTOOLS_TS_VERSION)
  .help()
  .strict()
  .parseAsync();

function fail(message: string): never {
  process.stderr.write(`ERROR ${message}\n`);
  process.exit(1);
}

if (argv.ini === true) {
  process.stdout.write(sampleSupervisorConfig());
  process.exit(0);
}
if (argv.config === undefined) fail('--config FILE is required (londisted --ini prints a sample)');
const configFile = argv.config;
let config;
try {
  config = loadSupervisorConfig(configFile);
} catch (err) {
  fail(describeError(err));
}

if (argv.reload === true || argv.stop === true) {
  try {
    signalPidfile(config.pidfile, argv.stop === true ? 'SIGTERM' : 'SIGHUP', 'londisted');
  } catch (err) {
    fail(describeError(err));
  }
  process.exit(0);
}

const level: LogLevel = argv.verbose === true ? 'debug' : argv.quiet === true ? 'warning' : config.loglevel;
const log = createLogger({ level, ...(config.logfile !== undefined ? { logfile: config.logfile } : {}) });
const pidfile = config.pidfile;
if (pidfile !== undefined) writeFileSync(pidfile, `${process.pid}\n`);

const supervisor = new Supervisor(config, log);

// handlers first: a signal arriving during start-up must not hit the default action
let stopping = false;
// with no job (an empty jobs_dir) nothing else would keep the process alive
const keepAlive = setInterval(() => undefined, 1 << 30);
process.on('SIGHUP', () => {
  if (stopping) return;
  log.info('SIGHUP: reloading configuration and jobs');
  try {
    const next = loadSupervisorConfig(configFile);
    log.setLevel(argv.verbose === true ? 'debug' : argv.quiet === true ? 'warning' : next.loglevel);
    void supervisor.reload(next);
  } catch (err) {
    log.error(`reload failed, keeping the running configuration: ${describeError(err)}`);
  }
});
const shutdown = (sig: string): void => {
  if (stopping) {
    log.warning(`${sig} again: exiting at once`);
    process.exit(1);
  }
  stopping = true;
  log.info(`${sig}: stopping jobs`);
  void supervisor.shutdown().then(async (clean) => {
    if (!clean) log.warning('some jobs did not stop within shutdown_timeout');
    log.info('londisted stopped');
    if (pidfile !== undefined) rmSync(pidfile, { force: true });
    clearInterval(keepAlive);
    await log.close();
    process.exit(0);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

log.info(`londisted ${SKYTOOLS_TS_VERSION} starting, jobs from ${config.jobs_dir}`);
await supervisor.reload();
