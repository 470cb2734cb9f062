/**
 * add-table and resync with --copy-node=NODE or --find-copy-node: the node whose tables the
 * command checks (the tables must be there, local, holding every row) and the copy_node
 * attribute it stores for the worker (docs/londiste.md, "Copying from another node").
 */
import type pg from 'pg';
import { connect, pgqNode, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { loadTableStates, type TableState } from '../replay/table-state.js';
import { holdsEveryRow, ROOT_ONLY_AS_PROVIDER, walkUp } from '../worker/copy-source.js';

export interface CopyNodeOptions {
  copyNode?: string | undefined;
  findCopyNode: boolean;
}

export interface CopyFrom {
  /** The node the copies read from, for the checks (the provider's connection when it is that). */
  db: pg.ClientBase;
  tables: Map<string, TableState>;
  /** "provider NAME" or "copy node NAME", for messages. */
  label: string;
  /** The copy_node attribute to store: a node name, '?', or undefined (the provider: none). */
  attr: string | undefined;
  /** Ends a connection opened for it. */
  close: () => Promise<void>;
}

/** Refuse the copy-node options where they cannot apply, before anything changes. */
export function checkCopyNodeOptions(o: CopyNodeOptions, context: { isRoot: boolean; expectSync?: boolean; mergeAll?: boolean }): void {
  const given = o.copyNode !== undefined ? `--copy-node=${o.copyNode}` : o.findCopyNode ? '--find-copy-node' : undefined;
  if (given === undefined) return;
  if (o.copyNode !== undefined && o.findCopyNode) throw new UsageError('--copy-node and --find-copy-node: give one of them; nothing was changed');
  if (o.copyNode === '') throw new UsageError('--copy-node needs a node name; nothing was changed');
  if (context.isRoot) throw new UsageError(`${given}: the root copies nothing (its tables are the source); nothing was changed`);
  if (context.expectSync === true) throw new UsageError(`${given} with --expect-sync: an expected-in-sync table is not copied; nothing was changed`);
  if (context.mergeAll === true) throw new UsageError(`${given} with --merge-all: the parts of a merged table copy from their providers; nothing was changed`);
}

function describe(node: string, isProvider: boolean): string {
  return isProvider ? `provider ${node}` : `copy node ${node}`;
}

/** Where the tables are checked and copied from, by the options; `provider` is the provider's connection. */
export async function resolveCopyFrom(
  admin: NodeAdmin,
  o: CopyNodeOptions,
  provider: pg.Client,
  tables: readonly string[],
  /** The provider's table states when the caller has read them already. */
  providerStates?: Map<string, TableState>,
): Promise<CopyFrom> {
  const info = await admin.localNodeInfo();
  const providerNode = info.provider_node ?? 'provider';
  const viaProvider = async (attr: string | undefined): Promise<CopyFrom> => ({
    db: provider,
    tables: providerStates ?? (await loadTableStates(provider, admin.queue)),
    label: describe(providerNode, true),
    attr,
    close: () => Promise.resolve(),
  });
  if (o.findCopyNode) {
    const { found, seen } = await walkUp(
      provider,
      admin.queue,
      (location) => connect(location, { name: 'copy_node', logger: admin.log }),
      async (client) => {
        const there = await loadTableStates(client, admin.queue);
        return tables.every((t) => {
          const s = there.get(t);
          return s !== undefined && s.local && holdsEveryRow(s);
        });
      },
    );
    if (found === null) throw new UsageError(`--find-copy-node: no node from the provider up to the root (${seen.join(' -> ')}) has all of ${tables.join(', ')} with every row; nothing was changed`);
    if (found.client === provider) return viaProvider('?');
    const close = (): Promise<void> => found.client.end().catch(() => undefined);
    if (found.isRoot) {
      await close();
      throw new UsageError(`--find-copy-node: the first node above the provider with the tables is root ${found.name}: ${ROOT_ONLY_AS_PROVIDER} (--copy-node=NODE); nothing was changed`);
    }
    admin.log.info(`Node ${found.name} has the tables: the copies will read from it`);
    return { db: found.client, tables: await loadTableStates(found.client, admin.queue), label: describe(found.name, false), attr: '?', close };
  }
  const node = o.copyNode;
  if (node === undefined) return viaProvider(undefined);
  // naming the provider stores no copy_node: the usual copy (and resync --copy-node=PROVIDER undoes one)
  if (node === providerNode) return viaProvider(undefined);
  if (node === info.node_name) throw new UsageError(`--copy-node=${node}: that is this node; nothing was changed`);
  const member = (await admin.members()).find((m) => m.name === node);
  if (member?.location === null || member?.location === undefined) {
    throw new UsageError(`--copy-node=${node}: no such member of queue ${admin.queue} (see: members); nothing was changed`);
  }
  const client = await connect(member.location, { name: 'copy_node', logger: admin.log });
  const close = (): Promise<void> => client.end().catch(() => undefined);
  try {
    if ((await pgqNode.getNodeInfo(client, admin.queue))?.node_type === 'root') throw new UsageError(`--copy-node=${node}: ${ROOT_ONLY_AS_PROVIDER}; nothing was changed`);
    const states = await loadTableStates(client, admin.queue);
    const filtered = tables.filter((t) => states.get(t)?.local === true && !holdsEveryRow(states.get(t) as TableState));
    if (filtered.length > 0) throw new UsageError(`--copy-node=${node}: ${filtered.join(', ')} ${filtered.length === 1 ? 'is' : 'are'} filtered there (--where or handler): a copy from it would miss rows; nothing was changed`);
    return { db: client, tables: states, label: describe(node, false), attr: node, close };
  } catch (err) {
    await close();
    throw err;
  }
}
