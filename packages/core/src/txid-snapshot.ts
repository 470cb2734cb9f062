/**
 * txid_snapshot values ("xmin:xmax:xip1,xip2,..."), parsed so the worker can ask, without a
 * round trip, whether a transaction's effects are contained in a snapshot (used to skip events
 * already present in an initial copy).
 */
import { SkytoolsError } from './errors.js';

export class TxidSnapshot {
  private constructor(
    readonly xmin: bigint,
    readonly xmax: bigint,
    private readonly xip: ReadonlySet<bigint>,
    readonly text: string,
  ) {}

  static parse(text: string): TxidSnapshot {
    const m = /^(\d+):(\d+):([\d,]*)$/.exec(text.trim());
    if (m === null || m[1] === undefined || m[2] === undefined) throw new SkytoolsError(`invalid txid_snapshot: ${text}`);
    const xip = new Set((m[3] ?? '').split(',').filter((s) => s !== '').map((s) => BigInt(s)));
    return new TxidSnapshot(BigInt(m[1]), BigInt(m[2]), xip, text.trim());
  }

  /** Was transaction txid committed (or aborted) before this snapshot, i.e. are its effects visible? */
  contains(txid: bigint | string): boolean {
    const t = typeof txid === 'bigint' ? txid : BigInt(txid);
    if (t < this.xmin) return true;
    if (t >= this.xmax) return false;
    return !this.xip.has(t);
  }
}
