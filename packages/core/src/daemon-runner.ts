/**
 * The start-up every daemon binary shares (pgqd, londisted): options (--config, -v/-q, --ini,
 * --reload/--stop, --pidfile), the config file, logger and pidfile, and the signals: SIGHUP
 * opens the log file again (logrotate) and re-reads the config (a broken file is logged and the
 * running config kept), SIGTERM/SIGINT stop gracefully, a second one exits at once. Under a
 * systemd unit of Type=notify it tells systemd when it is ready, reloading and stopping
 * (docs/operations.md). Only binaries call runDaemon: it installs process signal handlers and
 * writes to the console.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { iniToYaml, writeNewFile, type ConfigSpec, type ConfigWarn, type IniFormat } from './config.js';
import { ConfigWarnings } from './config-warnings.js';
import { describeError } from './errors.js';
import { createLogger, type ClosableLogger, type LogFormat, type LogLevel } from './logger.js';
import { killPidfile, PidFile, signalPidfile } from './pidfile.js';
import { serviceNotifier } from './service-notify.js';
import { SKYTOOLS_TS_VERSION } from './version.js';

/** What a running daemon offers its binary. */
export interface Daemon {
  /** A new, valid configuration (SIGHUP). */
  reload(): Promise<void> | void;
  /** Stop gracefully; false when something did not stop in time. */
  stop(): Promise<boolean>;
}

export interface DaemonConfig {
  logfile?: string;
  pidfile?: string;
  loglevel: LogLevel;
  log_format: LogFormat;
}

export interface DaemonSpec<C extends DaemonConfig> {
  /** Program name, as in messages and --help. */
  name: string;
  /** One line under the usage in --help. */
  describe: string;
  /** Read the config file; `warn` hears each upstream-only key dropped from an .ini file. */
  load(file: string, warn: ConfigWarn): C;
  sample(): string;
  /** Upstream's .ini format for `--import-ini` (pgqd.ini); absent when there is no upstream file. */
  importIni?: { spec: ConfigSpec; format: IniFormat };
  /** Start serving; `current()` always returns the newest valid configuration. */
  start(config: C, log: ClosableLogger, current: () => C): Promise<Daemon> | Daemon;
}

function fail(message: string): never {
  process.stderr.write(`ERROR ${message}\n`);
  process.exit(1);
}

export async function runDaemon<C extends DaemonConfig>(spec: DaemonSpec<C>, argv: readonly string[] = hideBin(process.argv)): Promise<void> {
  const args = await yargs([...argv])
    .scriptName(spec.name)
    // yargs' own messages in English, like ours, whatever LANG says
    .locale('en')
    .usage(`$0 [--config] FILE [-v|-q]\n\n${spec.describe}\nFILE is YAML${spec.importIni === undefined ? '' : ", or upstream's .ini"}.`)
    .command('$0 [file]', false, (y) => y.positional('file', { type: 'string', describe: 'configuration file (as --config)' }))
    .option('config', { alias: 'c', type: 'string', describe: 'configuration file' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'debug logging' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'warnings and errors only' })
    .option('ini', { type: 'boolean', describe: 'print a commented sample configuration and exit' })
    .option('pidfile', { type: 'string', describe: 'pid file (overrides the config)' })
    .option('reload', { alias: 'r', type: 'boolean', describe: 'tell the running instance (pidfile) to reload its config' })
    .option('stop', { alias: 's', type: 'boolean', describe: 'tell the running instance (pidfile) to stop gracefully' })
    .option('kill', { alias: 'k', type: 'boolean', describe: 'kill the running instance (pidfile) at once; work in flight is redone at its next start' })
    .option('daemon', { alias: 'd', type: 'boolean', hidden: true })
    .option('import-ini', { type: 'string', hidden: spec.importIni === undefined, describe: "print upstream's .ini FILE as this program's YAML (passwords left out) and exit" })
    .option('output', { alias: 'o', type: 'string', hidden: spec.importIni === undefined, describe: '--import-ini: write the YAML to this new file (mode 0600, passwords kept)' })
    .version(SKYTOOLS_TS_VERSION)
    .help()
    .strict()
    .parseAsync();

  if (args.ini === true) {
    process.stdout.write(spec.sample());
    process.exit(0);
  }
  const importFile = args['import-ini'];
  if (importFile !== undefined) {
    if (spec.importIni === undefined) fail(`${spec.name} has no upstream .ini format to import`);
    try {
      const output = args.output;
      if (output === undefined) process.stdout.write(iniToYaml(importFile, spec.importIni.spec, spec.importIni.format, { hidePasswords: true }));
      else writeNewFile(output, iniToYaml(importFile, spec.importIni.spec, spec.importIni.format, { hidePasswords: false }));
    } catch (err) {
      fail(describeError(err));
    }
    process.exit(0);
  }
  if (args.daemon === true) {
    fail(`${spec.name} does not detach itself (-d): run it under systemd (docs/operations.md) or your shell's job control; it logs to logfile or stderr`);
  }
  const fileArg = typeof args['file'] === 'string' ? args['file'] : undefined;
  if (args.config !== undefined && fileArg !== undefined && args.config !== fileArg) fail(`two config files given: ${fileArg} and --config ${args.config}`);
  const configFile = args.config ?? fileArg;
  if (configFile === undefined) fail(`a config file is required: ${spec.name} FILE (${spec.name} --ini prints a sample)`);
  const warnings = new ConfigWarnings();
  let config: C;
  try {
    config = spec.load(configFile, warnings.warn);
  } catch (err) {
    fail(describeError(err));
  }
  const pidPath = args.pidfile ?? config.pidfile;
  if (args.reload === true || args.stop === true || args.kill === true) {
    try {
      if (args.kill === true) await killPidfile(pidPath, spec.name);
      else signalPidfile(pidPath, args.stop === true ? 'SIGTERM' : 'SIGHUP', spec.name);
    } catch (err) {
      fail(describeError(err));
    }
    process.exit(0);
  }

  const levelOf = (c: C): LogLevel => (args.verbose === true ? 'debug' : args.quiet === true ? 'warning' : c.loglevel);
  let log: ClosableLogger;
  try {
    log = createLogger({ level: levelOf(config), format: config.log_format, ...(config.logfile !== undefined ? { logfile: config.logfile } : {}) });
  } catch (err) {
    fail(describeError(err));
  }
  warnings.attach(log);
  const notify = serviceNotifier(log);
  let pidfile: PidFile | undefined;
  try {
    if (pidPath !== undefined) pidfile = PidFile.claim(pidPath, spec.name);
  } catch (err) {
    fail(describeError(err));
  }
  // with nothing to serve (an empty jobs_dir) nothing else would keep the process alive
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  let daemon: Daemon | undefined;
  const exit = async (code: number): Promise<never> => {
    pidfile?.release();
    clearInterval(keepAlive);
    await notify.close(2000);
    await log.close();
    process.exit(code);
  };

  // handlers before start: a signal arriving during start-up must not hit the default action
  process.on('SIGHUP', () => {
    if (stopping) return;
    // during start-up, the READY=1 at its end covers the reload too
    const started = daemon !== undefined;
    if (started) notify.reloading();
    let next: C | undefined;
    let loadError: unknown;
    try {
      next = spec.load(configFile, warnings.warn);
    } catch (err) {
      loadError = err;
    }
    // the file is opened again whatever became of the config: logrotate's postrotate sends this signal
    const target = next ?? config;
    try {
      log.reopen({ logfile: target.logfile, format: target.log_format });
    } catch (err) {
      log.error(`${describeError(err)}; logging goes on where it went`);
    }
    log.info(`SIGHUP: reloading ${configFile} (log file reopened)`);
    if (next === undefined) {
      log.error(`reload failed, keeping the running configuration: ${describeError(loadError)}`);
      if (started) notify.ready();
      return;
    }
    config = next;
    log.setLevel(levelOf(next));
    void Promise.resolve(daemon?.reload())
      .catch((err: unknown) => log.error(`reload failed: ${describeError(err)}`))
      .finally(() => {
        if (started && !stopping) notify.ready();
      });
  });
  const shutdown = (sig: string): void => {
    if (stopping) {
      log.warning(`${sig} again: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    notify.stopping();
    log.info(`${sig}: stopping`);
    void (daemon?.stop() ?? Promise.resolve(true)).then(
      async (clean) => {
        if (!clean) log.warning('some work did not stop within the shutdown timeout');
        log.info(`${spec.name} stopped`);
        await exit(0);
      },
      async (err: unknown) => {
        log.error(`stopping failed: ${describeError(err)}`);
        await exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    daemon = await spec.start(config, log, () => config);
  } catch (err) {
    log.error(describeError(err));
    await exit(1);
  }
  if (!stopping) notify.ready();
}
