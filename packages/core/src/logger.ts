/**
 * Logging. Libraries receive a `Logger` and never touch the console; binaries build one with
 * createLogger(), which formats lines the way upstream Skytools does:
 *   2012-05-30 21:32:36,847 9378 INFO Table added: digoal_01.user_info
 */
import winston from 'winston';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** A logger whose lines carry a prefix, e.g. the job name inside londisted. */
  child(prefix: string): Logger;
  isDebugEnabled(): boolean;
}

/** Discards everything; for library calls that need no output. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  isDebugEnabled: () => false,
};

const LEVELS = { error: 0, warning: 1, info: 2, debug: 3 } as const;

function stamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

const lineFormat = winston.format.printf((info) => {
  const prefix = typeof info['prefix'] === 'string' && info['prefix'] !== '' ? `${info['prefix']}: ` : '';
  return `${stamp(new Date())} ${process.pid} ${info.level.toUpperCase()} ${prefix}${String(info.message)}`;
});

export interface LoggerOptions {
  level?: LogLevel;
  /** Append to this file; when absent, lines go to stderr. */
  logfile?: string;
  /** Also write to stderr when logging to a file (foreground runs). */
  alsoStderr?: boolean;
}

class WinstonLogger implements Logger {
  constructor(
    private readonly w: winston.Logger,
    private readonly prefix: string,
  ) {}
  private log(level: LogLevel, message: string): void {
    this.w.log({ level, message, prefix: this.prefix });
  }
  debug(message: string): void {
    this.log('debug', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  warning(message: string): void {
    this.log('warning', message);
  }
  error(message: string): void {
    this.log('error', message);
  }
  child(prefix: string): Logger {
    return new WinstonLogger(this.w, this.prefix === '' ? prefix : `${this.prefix}: ${prefix}`);
  }
  isDebugEnabled(): boolean {
    return this.w.isLevelEnabled('debug');
  }
}

export interface ClosableLogger extends Logger {
  /** Flush and close the transports (call before exit). */
  close(): Promise<void>;
  setLevel(level: LogLevel): void;
}

export function createLogger(options: LoggerOptions = {}): ClosableLogger {
  const transports: winston.transport[] = [];
  const stderr = new winston.transports.Stream({ stream: process.stderr });
  if (options.logfile !== undefined) {
    // created 0640: log lines name hosts, databases and tables
    transports.push(new winston.transports.File({ filename: options.logfile, options: { flags: 'a', mode: 0o640 } }));
    if (options.alsoStderr === true) transports.push(stderr);
  } else {
    transports.push(stderr);
  }
  const w = winston.createLogger({ levels: LEVELS, level: options.level ?? 'info', format: lineFormat, transports });
  const base = new WinstonLogger(w, '');
  return Object.assign(base, {
    close: () =>
      new Promise<void>((resolve) => {
        w.on('finish', () => resolve());
        w.end();
      }),
    setLevel: (level: LogLevel) => {
      w.level = level;
    },
  });
}

/** The same logger with info lines demoted to debug: for chatter the user did not ask about. */
export function quietLogger(log: Logger): Logger {
  return {
    debug: (m) => log.debug(m),
    info: (m) => log.debug(m),
    warning: (m) => log.warning(m),
    error: (m) => log.error(m),
    child: (p) => quietLogger(log.child(p)),
    isDebugEnabled: () => log.isDebugEnabled(),
  };
}
