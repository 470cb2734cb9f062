/**
 * Numbered progress lines for multi-step cascade operations (`step 3/7: promoting b ...`), so an
 * operator watching a takeover knows where it is and, if it is interrupted, where it stopped.
 */
import type { Logger } from '@skytools/core';

export class StepLog {
  private n = 0;
  private readonly started = Date.now();

  constructor(
    private readonly log: Logger,
    private readonly total: number,
    /** Prefix for steps of an operation run inside another one ("move c: "). */
    private readonly prefix = '',
  ) {}

  step(what: string): void {
    this.n += 1;
    this.log.info(`${this.prefix}step ${String(this.n)}/${String(this.total)}: ${what}`);
  }

  /** Steps an earlier, interrupted run has done already. */
  skip(count: number, why: string): void {
    const from = this.n + 1;
    this.n += count;
    this.log.info(`${this.prefix}steps ${String(from)}-${String(this.n)}/${String(this.total)}: ${why}`);
  }

  note(what: string): void {
    this.log.info(`${this.prefix}${what}`);
  }

  elapsedSeconds(): string {
    return ((Date.now() - this.started) / 1000).toFixed(1);
  }
}
