/** A node as the `status` commands show it. */

/** A node as the status tree shows it. A node that could not be reached has type 'dead'. */
export interface NodeStatus {
  name: string;
  type: string;
  providerNode: string | null;
  workerName: string | null;
  lastTick: string | null;
  paused: boolean;
  uptodate: boolean;
  /** Seconds; null when unknown. */
  lagSeconds: number | null;
  /** Extra lines (Tables: ok/half/ignored, Attr:, ERR:). */
  infoLines: string[];
}
