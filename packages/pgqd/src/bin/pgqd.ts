#!/usr/bin/env node
// pgqd --config pgqd.yaml: runs in the foreground (systemd style). SIGHUP re-reads the config
// (a broken file is logged and the old config keeps running), SIGINT/SIGTERM stop gracefully,
// a second signal exits at once.
import { rmSync, writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger, describeError, signalPidfile, SKYTOOLS_TS_VERSION, type LogLevel } from '@skytools/core';
import { loadPgqdConfig, PgqdDaemon, samplePgqdConfig, type PgqdConfig } from '../index.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('pgqd')
  .usage('$0 --config pgqd.yaml [-v|-q]\n\nPgQ ticker daemon: ticks queues and runs maintenance in every database of a cluster.')
  .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file' })
  .option('verbose', { alias: 'v', type: 'boolean', describe: 'debug logging' })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'warnings and errors only' })
  .option('ini', { type: 'boolean', describe: 'print a commented sample configuration and exit' })
  .option('pidfile', { type: 'string', describe: 'pid file (overrides the config)' })
  .option('reload', { alias: 'r', type: 'boolean', describe: 'tell the running pgqd (pidfile) to reload its config' })
  .option('stop', { alias: 's', type: 'boolean', describe: 'tell the running pgqd (pidfile) to stop' })
  .version(SKYTOOLS_TS_VERSION)
  .help()
  .strict()
  .parseAsync();

function fail(message: string): never {
  process.stderr.write(`ERROR ${message}\n`);
  process.exit(1);
}

if (argv.ini === true) {
  process.stdout.write(samplePgqdConfig());
  process.exit(0);
}
if (argv.config === undefined) fail('--config FILE is required (pgqd --ini prints a sample)');
const configFile = argv.config;
let config: PgqdConfig;
try {
  config = loadPgqdConfig(configFile);
} catch (err) {
  fail(describeError(err));
}
const pidfile = argv.pidfile ?? config.pidfile;

if (argv.reload === true || argv.stop === true) {
  try {
    signalPidfile(pidfile, argv.stop === true ? 'SIGTERM' : 'SIGHUP', 'pgqd');
  } catch (err) {
    fail(describeError(err));
  }
  process.exit(0);
}

const levelOf = (c: PgqdConfig): LogLevel => (argv.verbose === true ? 'debug' : argv.quiet === true ? 'warning' : c.loglevel);
const log = createLogger({ level: levelOf(config), ...(config.logfile !== undefined ? { logfile: config.logfile } : {}) });
if (pidfile !== undefined) writeFileSync(pidfile, `${process.pid}\n`);
const daemon = new PgqdDaemon(config, log);
daemon.start();

let stopping = false;
process.on('SIGHUP', () => {
  try {
    const next = loadPgqdConfig(configFile);
    log.setLevel(levelOf(next));
    daemon.reload(next);
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
  log.info(`${sig}: stopping`);
  void daemon.stop().then(async () => {
    log.info('pgqd stopped');
    if (pidfile !== undefined) rmSync(pidfile, { force: true });
    await log.close();
    process.exit(0);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
