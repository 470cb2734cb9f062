/**
 * Commands that follow a running worker: wait-sync (every local table `ok`), wait-root and
 * wait-provider (this node has applied the root's / provider's newest tick), change-provider.
 * Waits poll the node every 200 ms and log progress; they give up after --wait-timeout seconds
 * when it is not 0.
 */
import { londisteSql, pgq, pgqNode, sleep, SkytoolsError } from '@skytools/core';
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
