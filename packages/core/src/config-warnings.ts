/**
 * Where the warnings about a config file's upstream keys go (a ConfigWarn): each said once per
 * process, since daemons read their files again at every SIGHUP, and held back until the logger
 * exists when the file is read before it (the file says where to log).
 */
import type { ConfigWarn } from './config.js';
import type { Logger } from './logger.js';

export class ConfigWarnings {
  private readonly said = new Set<string>();
  private held: string[] = [];
  private log: Logger | undefined;

  readonly warn: ConfigWarn = (message) => {
    if (this.said.has(message)) return;
    this.said.add(message);
    if (this.log === undefined) this.held.push(message);
    else this.log.warning(message);
  };

  constructor(log?: Logger) {
    if (log !== undefined) this.attach(log);
  }

  /** From now on warnings go to `log`; those held back go there first. */
  attach(log: Logger): void {
    this.log = log;
    for (const m of this.held) log.warning(m);
    this.held = [];
  }
}
