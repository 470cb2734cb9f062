/** Changing the shape of the cascade: change-provider, takeover (switchover, failover), resurrect, rename-node. */
import { UsageError } from '@skytools/core';
import { switchProvider } from '../cascade/provider-switch.js';
import { takeover, type TakeoverOptions } from '../cascade/takeover.js';
import { resurrect } from '../cascade/resurrect.js';
import { renameNode } from '../cascade/rename.js';
import type { NodeAdmin } from '../node-admin.js';

export interface ChangeProviderOptions {
  node?: string | undefined;
  provider?: string | undefined;
  waitSeconds: number;
}

/** Move this node (or --node) to read from --provider, at the tick it stands on. */
export async function cmdChangeProvider(admin: NodeAdmin, o: ChangeProviderOptions): Promise<void> {
  const info = await admin.localNodeInfo();
  if (o.provider === undefined || o.provider === '') throw new UsageError('change-provider needs --provider=NODE (the new provider node name)');
  const node = o.node ?? info.node_name ?? '';
  await admin.member(node);
  await admin.member(o.provider);
  await switchProvider(admin, node, o.provider, { waitMs: o.waitSeconds * 1000, catchUpMs: o.waitSeconds * 1000 });
}

export interface TakeoverCliOptions extends TakeoverOptions {
  dead: string[];
}

export async function cmdTakeover(admin: NodeAdmin, oldNode: string, o: TakeoverCliOptions): Promise<void> {
  await admin.localNodeInfo();
  for (const d of o.dead) await admin.member(d);
  admin.treatAsDead(o.dead);
  await takeover(admin, oldNode, o);
}

/** Bring a failed-over old root back as a branch; its unshipped events go to `dumpFile`. */
export async function cmdResurrect(admin: NodeAdmin, dumpFile: string | undefined): Promise<void> {
  const info = await admin.localNodeInfo();
  await resurrect(admin, { dumpFile: dumpFile ?? `resurrect-${info.node_name ?? 'node'}-lost-events.jsonl` });
}

export async function cmdRenameNode(admin: NodeAdmin, args: readonly string[], waitSeconds: number): Promise<void> {
  const [oldName, newName, ...extra] = args;
  if (oldName === undefined || newName === undefined || extra.length > 0) throw new UsageError('rename-node takes two arguments: OLD_NAME NEW_NAME');
  await admin.localNodeInfo();
  await renameNode(admin, oldName, newName, waitSeconds * 1000);
}
