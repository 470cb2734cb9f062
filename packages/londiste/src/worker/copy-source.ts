/**
 * Where a table's initial copy reads from (docs/londiste.md, "Copying from another node"): the
 * provider, or another node of the cascade named by the table's copy_node attribute
 * (add-table --copy-node=NODE), or found by walking up from the provider (copy_node=?, from
 * --find-copy-node: the first node that has the table in sync, as upstream walks).
 *
 * A copy from another node stays snapshot-correct through ticks: that node applies whole batches
 * and records the last tick it applied in the same transaction, so the rows the copy reads (in
 * one repeatable-read transaction there) are the source's rows as of that tick T. Tick ids are
 * the same on every node of a cascade, so on this node's provider tick T has a snapshot of its
 * own, and the events of this node's queue that snapshot contains are exactly those already in
 * the copy: it becomes the table's copy snapshot and the catch-up works as for a provider's copy.
 * Two conditions: the worker must have kept the table's events since T at least (those before
 * its copy backlog began would be missing), and the provider must have tick T already; while
 * either fails the copy waits. A
 * root applies no batches, so it is a copy source only as this node's provider.
 */
import type pg from 'pg';
import { catalog, connect, londisteSql, pgq, pgqNode, SkytoolsError, type Logger } from '@skytools/core';
import { loadTableStates, tableHandler, type TableState } from '../replay/table-state.js';

/** The source is not ready for the copy yet (behind this node, or ahead of its provider): tried again later. */
export class CopySourceNotReady extends SkytoolsError {}

export interface CopySource {
  /** The node's name (for the log). */
  node: string;
  /** Whether it is this node's provider (the usual copy). */
  isProvider: boolean;
  /** A connection to it: the provider's, or one of its own that close() ends. */
  client: pg.Client;
  /** The table's state there (undefined: the node does not replicate it). */
  state: TableState | undefined;
  /**
   * The copy snapshot, asked inside the copy's repeatable-read transaction on client (after
   * nothing else was read in it): txid_current_snapshot() on the provider, the provider's snapshot
   * of the tick the source had applied for another node.
   */
  snapshot: (src: pg.ClientBase) => Promise<string>;
  close: () => Promise<void>;
}

export interface CopySourceContext {
  queue: string;
  /** This node's database (idle). */
  db: pg.Client;
  /** This node's provider (idle). */
  provider: pg.Client;
  /** The provider's table states, read already or being read. */
  providerStates?: Promise<Map<string, TableState>>;
  log: Logger;
  applicationName: string;
  /**
   * The tick after which the worker has kept every event of the table (since it first saw it
   * waiting for a copy); unknown: not seen by the worker's rounds yet (a copy from another node
   * waits for that).
   */
  parkedSince?: string | undefined;
}

/**
 * Does the copy of t on a node hold every row of the source as it is (no --where, and no handler
 * that filters, stores elsewhere or reshapes: only the default one and bulk)?
 */
export function holdsEveryRow(t: TableState): boolean {
  const { impl } = tableHandler(t);
  return t.where === null && (impl.name === 'londiste' || impl.name === 'bulk');
}

/** A table several queues merge into there holds other queues' rows too. */
async function mergedThere(client: pg.ClientBase, queue: string, t: TableState): Promise<boolean> {
  return londisteSql.otherMergeParts(client, queue, t.name);
}

/** Is t on a node a source another node may copy from? */
function usable(t: TableState | undefined): boolean {
  return t !== undefined && t.local && t.state === 'ok' && holdsEveryRow(t);
}

function providerSource(ctx: CopySourceContext, node: string, state: TableState | undefined): CopySource {
  return { node, isProvider: true, client: ctx.provider, state, snapshot: (src) => catalog.currentSnapshot(src), close: () => Promise.resolve() };
}

export const ROOT_ONLY_AS_PROVIDER = 'a root is a copy source only for its own subscribers (it applies no ticks a copy could be matched to): name a branch or leaf that has the table';

/** The copy source of table t (its copy_node attribute, or the provider). */
export async function openCopySource(ctx: CopySourceContext, t: TableState): Promise<CopySource> {
  const providerStates = (): Promise<Map<string, TableState>> => ctx.providerStates ?? loadTableStates(ctx.provider, ctx.queue);
  const wanted = t.attrs['copy_node'] ?? null;
  // the usual case: no need to ask this node which node its provider is
  if (wanted === null || wanted === '') return providerSource(ctx, 'provider', (await providerStates()).get(t.name));
  const info = await pgqNode.getNodeInfo(ctx.db, ctx.queue);
  const providerNode = info?.provider_node ?? 'provider';
  if (wanted === providerNode) return providerSource(ctx, providerNode, (await providerStates()).get(t.name));
  if (wanted === info?.node_name) throw new SkytoolsError(`${t.name}: copy_node=${wanted} is this node itself; change it with resync --copy-node=NODE`);
  if (wanted === '?') return findUpwards(ctx, t, providerNode);

  const member = (await pgqNode.getQueueLocations(ctx.db, ctx.queue)).find((m) => m.name === wanted);
  if (member?.location === null || member?.location === undefined) {
    throw new SkytoolsError(`${t.name}: copy node ${wanted} is not a member of queue ${ctx.queue} known here; give another with resync --copy-node=NODE`);
  }
  const client = await connect(member.location, { name: 'copy_node', logger: ctx.log, applicationName: ctx.applicationName });
  try {
    const there = await pgqNode.getNodeInfo(client, ctx.queue);
    if (there?.node_type === 'root') throw new SkytoolsError(`${t.name}: cannot copy from root ${wanted}: ${ROOT_ONLY_AS_PROVIDER}`);
    return await otherNodeSource(ctx, wanted, client, (await loadTableStates(client, ctx.queue)).get(t.name), t);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

export interface NodeUpwards {
  name: string;
  isRoot: boolean;
  /** A connection of its own (the walk's caller ends it), or the provider's given to the walk. */
  client: pg.Client;
}

/**
 * Walk from the provider up to the root: the first node `accept` takes, or null (with the names
 * of the nodes looked at). Connections to the nodes above the provider are opened with `open`;
 * all but the accepted one are ended.
 */
export async function walkUp(
  provider: pg.Client,
  queue: string,
  open: (location: string) => Promise<pg.Client>,
  accept: (client: pg.Client) => Promise<boolean>,
): Promise<{ found: NodeUpwards | null; seen: string[] }> {
  const seen: string[] = [];
  let client = provider;
  for (let hops = 0; hops < 50; hops++) {
    let keep = false;
    try {
      const info = await pgqNode.getNodeInfo(client, queue);
      const isRoot = info?.node_type === 'root';
      seen.push(info?.node_name ?? '?');
      if (await accept(client)) {
        keep = true;
        return { found: { name: info?.node_name ?? '?', isRoot, client }, seen };
      }
      const next = isRoot ? null : (info?.provider_location ?? null);
      if (next === null) break;
      const opened = await open(next);
      if (client !== provider) await client.end().catch(() => undefined);
      client = opened;
      keep = true;
    } finally {
      if (!keep && client !== provider) await client.end().catch(() => undefined);
    }
  }
  if (client !== provider) await client.end().catch(() => undefined);
  return { found: null, seen };
}

/** copy_node=?: the provider when it has the table in sync, else the first node above it that has. */
async function findUpwards(ctx: CopySourceContext, t: TableState, providerNode: string): Promise<CopySource> {
  // a provider that has the table (in sync, or still copying it: the copy waits for it) is the source
  const providerState = (await loadTableStates(ctx.provider, ctx.queue)).get(t.name);
  if (providerState?.local === true && holdsEveryRow(providerState)) return providerSource(ctx, providerNode, providerState);
  let state: TableState | undefined;
  const { found, seen } = await walkUp(
    ctx.provider,
    ctx.queue,
    (location) => connect(location, { name: 'copy_node', logger: ctx.log, applicationName: ctx.applicationName }),
    async (client) => {
      state = (await loadTableStates(client, ctx.queue)).get(t.name);
      return usable(state);
    },
  );
  if (found === null) throw new SkytoolsError(`${t.name}: no node from the provider up to the root has it in sync (${seen.join(' -> ')}); name a node with resync --copy-node=NODE`);
  if (found.client === ctx.provider) return providerSource(ctx, providerNode, state);
  if (found.isRoot) {
    await found.client.end().catch(() => undefined);
    throw new SkytoolsError(`${t.name}: the first node above the provider with the table in sync is root ${found.name}: ${ROOT_ONLY_AS_PROVIDER} (resync --copy-node=NODE)`);
  }
  try {
    return await otherNodeSource(ctx, found.name, found.client, state, t);
  } catch (err) {
    await found.client.end().catch(() => undefined);
    throw err;
  }
}

async function otherNodeSource(ctx: CopySourceContext, node: string, client: pg.Client, state: TableState | undefined, table: TableState): Promise<CopySource> {
  if (state?.local !== true) {
    throw new SkytoolsError(`${table.name}: copy node ${node} does not replicate the table; name another with resync --copy-node=NODE`);
  }
  if (!holdsEveryRow(state) || (await mergedThere(client, ctx.queue, state))) {
    throw new SkytoolsError(`${table.name}: cannot copy from node ${node}: the table there does not hold the source's rows as they are (--where, a handler, or other queues merged into it); name another with resync --copy-node=NODE`);
  }
  const since = ctx.parkedSince;
  if (since === undefined) {
    // the worker records it in its next round, before that round's batch
    throw new CopySourceNotReady(`waiting for the worker to keep the table's events before copying from node ${node}`);
  }
  return {
    node,
    isProvider: false,
    client,
    state,
    snapshot: (src) => tickSnapshotOfCopy(ctx, node, table.name, since, src),
    close: () => client.end().catch(() => undefined),
  };
}

/** The provider's snapshot of the tick the source node had applied when the copy's snapshot was taken. */
async function tickSnapshotOfCopy(ctx: CopySourceContext, node: string, table: string, since: string, src: pg.ClientBase): Promise<string> {
  // the first read of the copy's transaction: the tick goes with the rows the copy will read
  const applied = (await pgqNode.getNodeInfo(src, ctx.queue))?.worker_last_tick ?? null;
  if (applied === null) throw new SkytoolsError(`copy node ${node} has applied no batch of queue ${ctx.queue}; name another node`);
  // the table as the copy will read it: in sync there at that tick (it may have been resynced
  // there since its state was first looked at; a fresh copy there holds rows of another moment)
  const there = (await loadTableStates(src, ctx.queue)).get(table);
  if (there?.local !== true || there.state !== 'ok') {
    throw new CopySourceNotReady(`the table is not in sync on copy node ${node} (state there: ${there?.state ?? 'not replicated'}): waiting for it`);
  }
  if (BigInt(applied) < BigInt(since)) {
    throw new CopySourceNotReady(`copy node ${node} is at tick ${applied}, behind tick ${since} from which this node keeps the table's events: waiting for it to catch up`);
  }
  const snapshot = await pgq.tickSnapshot(ctx.provider, ctx.queue, applied);
  if (snapshot === null) {
    throw new CopySourceNotReady(
      `copy node ${node} is at tick ${applied}, which the provider does not have: not yet (the copy waits for it), or no longer (then name a node further on, or the provider, with resync --copy-node=NODE)`,
    );
  }
  ctx.log.info(`${table}: reading node ${node}'s rows as of tick ${applied}`);
  return snapshot;
}
