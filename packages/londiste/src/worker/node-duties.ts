/**
 * What a worker does for the cascade besides applying batches: the root publishes sequence
 * positions (every round) and the global watermark (every `watermarkEveryMs`); a subscriber tells
 * its provider how far it got (its local watermark, which lets the provider rotate event tables).
 */
import type pg from 'pg';
import { londisteSql, pgqNode, type Logger } from '@skytools/core';

export class RootDuties {
  private last = 0;

  constructor(
    private readonly queue: string,
    private readonly log: Logger,
    private readonly watermarkEveryMs: number,
  ) {}

  async run(db: pg.ClientBase): Promise<void> {
    // sequences at every round: root_check_seqs publishes a position ahead of the real one, and
    // only publishes again once the real one comes near it
    await londisteSql.rootCheckSeqs(db, this.log, this.queue);
    if (Date.now() - this.last < this.watermarkEveryMs) return;
    this.last = Date.now();
    await pgqNode.publishGlobalWatermark(db, this.log, this.queue);
  }
}

export class WatermarkReporter {
  private last = 0;

  constructor(
    private readonly queue: string,
    private readonly log: Logger,
    private readonly everyMs: number,
  ) {}

  async report(db: pg.ClientBase, provider: pg.ClientBase, nodeName: string): Promise<void> {
    if (Date.now() - this.last < this.everyMs) return;
    this.last = Date.now();
    const wm = (await pgqNode.getNodeInfo(db, this.queue))?.local_watermark ?? null;
    if (wm !== null) await pgqNode.setSubscriberWatermark(provider, this.log, this.queue, nodeName, wm);
  }
}
