/**
 * A consumer whose handler writes into another database (the target) than the queue's: one
 * target connection kept between batches, dropped after an error (it may be mid-transaction or
 * broken) and at the end of run(). Its progress is recorded there, with the handler's work.
 */
import type pg from 'pg';
import { BatchLoop } from './batch-loop.js';

export abstract class TargetBatchLoop extends BatchLoop {
  private targetClient: pg.Client | undefined;

  /** Connection string of the target. */
  protected abstract get targetLocation(): string;

  protected async target(): Promise<pg.Client> {
    this.targetClient ??= await this.connectTo(this.targetLocation, 'target');
    return this.targetClient;
  }

  protected async closeTarget(): Promise<void> {
    const c = this.targetClient;
    this.targetClient = undefined;
    await c?.end().catch(() => undefined);
  }

  protected override get finishRefusedOutcome(): string {
    return 'its work on the target is committed and recorded there, so the batch is not applied twice';
  }

  override async run(signal: AbortSignal): Promise<void> {
    try {
      await super.run(signal);
    } finally {
      await this.closeTarget();
    }
  }
}
