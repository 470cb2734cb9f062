/**
 * Logging. Libraries receive a `Logger` and never touch the console; binaries build one with
 * createLogger(), which formats lines the way upstream Skytools does:
 *   2012-05-30 21:32:36,847 9378 INFO Table added: digoal_01.user_info
 * or, with log_format json, one object per line for log shippers:
 *   {"time":"2012-05-30T19:32:36.847Z","pid":9378,"level":"info","job":"dst1_digoal_01","message":"..."}
 */
import winston from 'winston';
import { ReopenableFile } from './reopenable-file.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogFormat = 'text' | 'json';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** A logger whose lines carry a prefix, e.g. the job name inside londisted (the `job` field of JSON lines). */
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

/** The prefixes of a line: the first is the job (londisted), any further ones narrow it down. */
function prefixesOf(info: winston.Logform.TransformableInfo): readonly string[] {
  const p = info['prefixes'];
  return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : [];
}

function formatLine(format: LogFormat, info: winston.Logform.TransformableInfo): string {
  const prefixes = prefixesOf(info);
  const message = String(info.message);
  if (format === 'json') {
    const [job, ...rest] = prefixes;
    const text = rest.length === 0 ? message : `${rest.join(': ')}: ${message}`;
    return JSON.stringify({ time: new Date().toISOString(), pid: process.pid, level: info.level, ...(job !== undefined ? { job } : {}), message: text });
  }
  const prefix = prefixes.length === 0 ? '' : `${prefixes.join(': ')}: `;
  return `${stamp(new Date())} ${process.pid} ${info.level.toUpperCase()} ${prefix}${message}`;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Append to this file; when absent, lines go to stderr. */
  logfile?: string;
  /** Also write to stderr when logging to a file (foreground runs). */
  alsoStderr?: boolean;
  /** `text` (default): upstream's lines; `json`: one JSON object per line. */
  format?: LogFormat;
}

class WinstonLogger implements Logger {
  constructor(
    private readonly w: winston.Logger,
    private readonly prefixes: readonly string[],
  ) {}
  private log(level: LogLevel, message: string): void {
    this.w.log({ level, message, prefixes: this.prefixes });
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
    return new WinstonLogger(this.w, [...this.prefixes, prefix]);
  }
  isDebugEnabled(): boolean {
    return this.w.isLevelEnabled('debug');
  }
}

export interface ClosableLogger extends Logger {
  /** Flush and close the transports (call before exit). */
  close(): Promise<void>;
  setLevel(level: LogLevel): void;
  /**
   * Open the log file again (SIGHUP: logrotate renamed it), at `target.logfile` when given, and
   * switch to `target.format`; lines go to stderr when there is no log file. Throws a UsageError
   * when the file cannot be opened, and then keeps writing where it did.
   */
  reopen(target?: { logfile?: string | undefined; format?: LogFormat }): void;
}

export function createLogger(options: LoggerOptions = {}): ClosableLogger {
  const state: { format: LogFormat } = { format: options.format ?? 'text' };
  const stderr = new winston.transports.Stream({ stream: process.stderr });
  let file = options.logfile !== undefined ? new ReopenableFile(options.logfile) : undefined;
  let fileTransport = file !== undefined ? new winston.transports.Stream({ stream: file }) : undefined;
  const transports: winston.transport[] = fileTransport === undefined ? [stderr] : options.alsoStderr === true ? [fileTransport, stderr] : [fileTransport];
  const w = winston.createLogger({ levels: LEVELS, level: options.level ?? 'info', format: winston.format.printf((info) => formatLine(state.format, info)), transports });
  const base = new WinstonLogger(w, []);
  const endFile = (f: ReopenableFile | undefined): Promise<void> => (f === undefined ? Promise.resolve() : new Promise<void>((resolve) => f.end(() => resolve())));
  return Object.assign(base, {
    close: async () => {
      await new Promise<void>((resolve) => {
        w.on('finish', () => resolve());
        w.end();
      });
      await endFile(file);
    },
    setLevel: (level: LogLevel) => {
      w.level = level;
    },
    reopen: (target: { logfile?: string | undefined; format?: LogFormat } = { logfile: file?.currentPath }) => {
      if (target.format !== undefined) state.format = target.format;
      const path = target.logfile;
      if (path !== undefined && file !== undefined) {
        file.reopen(path);
        return;
      }
      if (path === undefined && file === undefined) return;
      // between stderr and a file: swap the transports, the new one first so that no line is lost
      const nextFile = path !== undefined ? new ReopenableFile(path) : undefined;
      const nextTransport = nextFile !== undefined ? new winston.transports.Stream({ stream: nextFile }) : undefined;
      if (nextTransport !== undefined) w.add(nextTransport);
      else if (!w.transports.includes(stderr)) w.add(stderr);
      if (fileTransport !== undefined) w.remove(fileTransport);
      if (nextTransport !== undefined && options.alsoStderr !== true) w.remove(stderr);
      void endFile(file);
      file = nextFile;
      fileTransport = nextTransport;
    },
  });
}

/**
 * A logger whose lines wait: `flush()` writes them to `log` in order, `drop()` forgets them. For
 * work done ahead of knowing whether its outcome will be used (and otherwise done again).
 */
export function heldLogger(log: Logger): Logger & { flush(): void; drop(): void } {
  type Level = 'debug' | 'info' | 'warning' | 'error';
  const held: [Logger, Level, string][] = [];
  const holding = (to: Logger): Logger => {
    const hold = (level: Level) => (m: string): void => {
      held.push([to, level, m]);
    };
    return { debug: hold('debug'), info: hold('info'), warning: hold('warning'), error: hold('error'), child: (p) => holding(to.child(p)), isDebugEnabled: () => to.isDebugEnabled() };
  };
  return {
    ...holding(log),
    flush: () => {
      for (const [to, level, m] of held.splice(0)) to[level](m);
    },
    drop: () => {
      held.length = 0;
    },
  };
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
