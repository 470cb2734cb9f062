/** What the cascade admin commands know about a queue: its members and each node's state. */

export interface MemberInfo {
  name: string;
  location: string | null;
  dead: boolean;
}

/** One row of pgq_node.get_node_info(). */
export interface NodeInfoRow {
  ret_code: number;
  ret_note: string;
  node_type: 'root' | 'branch' | 'leaf' | null;
  node_name: string | null;
  global_watermark: string | null;
  local_watermark: string | null;
  provider_node: string | null;
  provider_location: string | null;
  combined_queue: string | null;
  combined_type: string | null;
  worker_name: string | null;
  worker_paused: boolean | null;
  worker_uptodate: boolean | null;
  worker_last_tick: string | null;
  node_attrs: string | null;
}

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
