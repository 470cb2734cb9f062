/**
 * Commands that follow a running worker: wait-sync (every local table `ok`), wait-root and
 * wait-provider (this node has applied the root's / provider's newest tick), change-provider.
 * Waits poll the node every 200 ms and log progress; they give up after --wait-timeout seconds
 * when it is not 0.
 */
import { londisteSql, pgq, pgqNode, sleep, SkytoolsError, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';

async function poll(admin: NodeAdmin, what: string, timeoutSec: number, probe: () => Promise<string | null>): Promise<void> {
  const started = Date.now();
  let lastNote = '';
  let lastLog = 0;
  for (;;) {
    const note = await probe();
    if (note === null) return;
    if (note !== lastNote || Date.now() - lastLog > 10_000) {
      admin.log.info(`Waiting for ${what}: ${note}`);
      lastNote = note;
      lastLog = Date.now();
    }
    if (timeoutSec > 0 && Date.now() - started > timeoutSec * 1000) {
      throw new SkytoolsError(`gave up waiting for ${what} after ${timeoutSec}s (${note}); is the worker running?`);
    }
    await sleep(200);
  }
}

export async function cmdWaitSync(admin: NodeAdmin, timeoutSec: number): Promise<void> {
  await admin.localNodeInfo();
  const db = await admin.db();
  admin.log.info('Waiting until all tables are in sync');
  await poll(admin, 'all tables in sync', timeoutSec, async () => {
    const behind = (await londisteSql.getTableList(db, admin.queue)).filter((t) => t.local && t.merge_state !== 'ok');
    if (behind.length === 0) return null;
    return behind.map((t) => `${t.table_name} ${t.merge_state ?? 'None'}`).join(', ');
  });
  admin.log.info('All tables in sync');
}

/** Wait until this node has applied the newest tick of `source` (root or provider). */
export async function cmdWaitFor(admin: NodeAdmin, source: 'root' | 'provider', timeoutSec: number): Promise<void> {
  const info = await admin.localNodeInfo();
  if (info.node_type === 'root') {
    admin.log.info('Current node is root, no need to wait');
    return;
  }
  const remote = source === 'root' ? await admin.rootDb(info.provider_location ?? undefined) : await admin.providerDb();
  // a tick now, so the wait covers everything committed up to this moment
  const target = await pgq.tickNow(remote, admin.queue);
  if (target === null) throw new SkytoolsError(`the ${source} has no ticks for queue ${admin.queue}`);
  admin.log.info(`Waiting for tick >= ${target} from the ${source}`);
  const db = await admin.db();
  await poll(admin, `tick ${target}`, timeoutSec, async () => {
    const t = (await pgqNode.getNodeInfo(db, admin.queue))?.worker_last_tick ?? null;
    return t !== null && BigInt(t) >= BigInt(target) ? null : `at tick ${t ?? 'none'}`;
  });
  admin.log.info(`Got tick ${target}, exiting`);
}

/** Make this node read from another node; the worker follows on its next round. */
export async function cmdChangeProvider(admin: NodeAdmin, newProvider: string | undefined): Promise<void> {
  const info = await admin.localNodeInfo();
  if (newProvider === undefined || newProvider === '') throw new UsageError('change-provider needs --provider=NODE (the new provider node name)');
  if (info.node_type === 'root') throw new UsageError('the root node has no provider');
  if (newProvider === info.node_name) throw new UsageError('cannot subscribe to itself');
  if (newProvider === info.provider_node) {
    admin.log.info(`Consumer '${info.worker_name ?? ''}' at node '${info.node_name ?? ''}' has already '${newProvider}' as provider`);
    return;
  }
  const worker = info.worker_name ?? '';
  const node = info.node_name ?? '';
  const oldProvider = info.provider_node;
  const db = await admin.db();
  const newDb = await admin.nodeDatabase(newProvider);
  const newType = (await pgqNode.getNodeInfo(newDb, admin.queue))?.node_type;
  if (newType === 'leaf' || newType === null || newType === undefined) throw new UsageError(`node ${newProvider} cannot be a provider (it is ${newType ?? 'not a node'})`);
  const tick = (await pgqNode.getConsumerState(db, admin.log, admin.queue, worker))?.completed_tick ?? null;
  // the new provider must still have the tick this node stands on
  await pgqNode.registerSubscriber(newDb, admin.log, admin.queue, node, worker, tick);
  await pgqNode.changeConsumerProvider(db, admin.log, admin.queue, worker, newProvider);
  if (oldProvider !== null) {
    try {
      await pgqNode.unregisterSubscriber(await admin.nodeDatabase(oldProvider), admin.log, admin.queue, node);
    } catch (err) {
      admin.log.warning(`could not unsubscribe from the old provider ${oldProvider}: ${(err as Error).message}`);
    }
  }
}
