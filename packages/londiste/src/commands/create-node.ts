/**
 * create-root / create-branch / create-leaf: install the schemas when missing, register the node
 * with the root and its provider, and initialise it, as upstream's cascade admin does.
 * Every check runs before the first change; if the local step fails after the provider was told
 * about the node, those registrations are undone.
 */
import type pg from 'pg';
import { catalog, installSchemas, londisteSql, maskConnstr, parseConnstr, pgq, pgqNode, session, silentLogger, SkytoolsError, UsageError, type NodeType } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { checkReplicaRole } from '../replica-role-check.js';

/** ticker_max_lag of a queue made by create-root. */
export const ROOT_TICKER_MAX_LAG = '100 milliseconds';

export interface CreateNodeOptions {
  type: NodeType;
  nodeName: string | undefined;
  location: string | undefined;
  provider: string | undefined;
  /** create-leaf --merge=QUEUE: the combined queue (a root on the same database) this leaf feeds. */
  merge?: string | undefined;
}

/** The combined queue of a merge leaf: a root node on this database (a combined branch is not supported). */
async function checkCombinedQueue(db: pg.ClientBase, queue: string, combined: string): Promise<void> {
  if (combined === queue) throw new UsageError(`--merge=${combined}: a queue cannot merge into itself; give the combined queue`);
  const c = (await catalog.schemaExists(db, 'pgq_node')) ? await pgqNode.getNodeInfo(db, combined) : undefined;
  if (c?.node_type === null || c?.node_type === undefined) {
    throw new UsageError(`--merge=${combined}: no node for queue "${combined}" on this database; create the combined queue's root here first (create-root with a job for ${combined})`);
  }
  if (c.node_type !== 'root') {
    throw new UsageError(`--merge=${combined}: the combined queue's node here is a ${c.node_type}; merging into a combined branch is not implemented, only into a combined root`);
  }
}

/** Does the public location reach the same database as the local connection? */
async function checkPublicLocation(admin: NodeAdmin, local: pg.ClientBase, location: string): Promise<void> {
  const before = await catalog.databaseIdentity(local);
  const pub = await admin.database('pub_db', location);
  let remote: catalog.DatabaseIdentity | undefined;
  try {
    remote = await catalog.databaseIdentity(pub);
  } finally {
    await admin.closeDatabase('pub_db');
  }
  const after = await catalog.databaseIdentity(local);
  if (before === undefined || remote === undefined || after === undefined) throw new SkytoolsError('cannot compare database identities');
  // the remote transaction must be invisible before and visible after: same cluster, same time line
  const v = await catalog.txidVisibility(local, remote.txid, before.snapshot, after.snapshot);
  if (before.oid !== remote.oid || before.datname !== remote.datname || v === undefined || v.before || !v.after) {
    throw new UsageError(`Public connect string '${maskConnstr(location)}' points to a different database than the local connect string (db in ${admin.job.file})`);
  }
}

export async function createNode(admin: NodeAdmin, opts: CreateNodeOptions): Promise<void> {
  const log = admin.log;
  const queue = admin.queue;
  const name = opts.nodeName ?? admin.job.node_name;
  if (name === undefined || name === '') throw new UsageError(`Node name must be given either in the command line or as node_name in ${admin.job.file}`);
  const location = opts.location ?? admin.job.public_node_location ?? admin.job.db;
  const params = parseConnstr(location);
  if (params['host'] === undefined && params['service'] === undefined && params['hostaddr'] === undefined) {
    log.warning('No host= in public connect string, bad idea');
  }

  const db = await admin.db();
  // a node that receives data must be able to apply it; find out before changing anything
  if (opts.type !== 'root') await checkReplicaRole(db, admin.job.db);

  // a node already here: a re-run only brings the schemas up to date
  const current = (await catalog.schemaExists(db, 'pgq_node')) ? await pgqNode.getNodeInfo(db, queue) : undefined;
  if (current?.node_type !== null && current?.node_type !== undefined) {
    if (current.node_name === name && current.node_type === opts.type) {
      await installSchemas(db, ['pgq', 'pgq_ext', 'pgq_node', 'londiste'], { logger: log });
      log.info(`Node is already initialized as ${current.node_type}`);
      return;
    }
    throw new UsageError(`this database already has node "${current.node_name ?? '?'}" (${current.node_type}) for queue "${queue}"; drop it first (drop-node) or use another database`);
  }

  await checkPublicLocation(admin, db, location);
  const worker = admin.job.job_name;

  if (opts.type === 'root') {
    await installSchemas(db, ['pgq', 'pgq_ext', 'pgq_node', 'londiste'], { logger: log });
    log.info('Initializing node');
    await session.withTransaction(db, async () => {
      const existed = await pgq.queueExists(db, queue);
      await pgqNode.registerLocation(db, log, queue, name, location, false);
      await pgqNode.createNode(db, log, queue, { type: 'root', node: name, worker, provider: null, globalWatermark: null, combinedQueue: null });
      // a new queue ticks as soon as events wait (upstream waits up to 3 s), so that with pgqd's
      // ticker_period replication lag stays sub-second; an idle queue still backs off to
      // ticker_idle_period. A queue that existed keeps its settings.
      if (!existed) {
        await pgq.setQueueConfig(db, queue, 'ticker_max_lag', ROOT_TICKER_MAX_LAG);
      }
    });
    log.info('Done');
    return;
  }

  const providerLoc = opts.provider ?? admin.job.initial_provider_location;
  if (providerLoc === undefined || providerLoc === '') throw new UsageError(`Please specify --provider (or initial_provider_location in ${admin.job.file}); nothing was changed`);

  // every check on the provider and the root before the first change here or there
  const rootDb = await admin.rootDb(providerLoc);
  const members = await admin.members(rootDb);
  if (members.some((m) => m.name === name)) {
    throw new UsageError(`Node '${name}' already exists in queue "${queue}"; pick another name or drop-node it first`);
  }
  const providerDb = await admin.database('provider_db', providerLoc);
  const prov = await pgqNode.getNodeInfo(providerDb, queue);
  const providerName = prov?.node_name ?? null;
  if (providerName === null || prov?.node_type === null) {
    throw new UsageError(`provider node not found: no node for queue "${queue}" at ${maskConnstr(providerLoc)}`);
  }
  if (prov?.node_type === 'leaf') throw new UsageError(`provider ${providerName} is a leaf node; a leaf cannot have subscribers`);
  if (opts.merge !== undefined) await checkCombinedQueue(db, queue, opts.merge);
  if (!members.some((m) => m.name === providerName)) throw new UsageError(`Node ${providerName} does not exist`);

  await installSchemas(db, ['pgq', 'pgq_ext', 'pgq_node', 'londiste'], { logger: log });
  log.info('Initializing node');
  await pgqNode.registerLocation(rootDb, log, queue, name, location, false);
  let subscribed = false;
  try {
    if (providerDb !== rootDb) await pgqNode.registerLocation(providerDb, log, queue, name, location, false);
    const globalWatermark = await pgqNode.registerSubscriber(providerDb, log, queue, name, worker, null);
    subscribed = true;

    const tables = await londisteSql.getTableList(providerDb, queue);
    const seqs = await londisteSql.getSeqList(providerDb, queue);

    await session.withTransaction(db, async () => {
      await pgqNode.registerLocation(db, log, queue, name, location, false);
      for (const m of members) await pgqNode.registerLocation(db, log, queue, m.name, m.location, m.dead);
      await pgqNode.createNode(db, log, queue, { type: opts.type, node: name, worker, provider: providerName, globalWatermark, combinedQueue: opts.merge ?? null });
      // the provider's table and sequence lists, so add-table here knows what exists upstream
      for (const t of tables) await londisteSql.globalAddTable(db, log, queue, t.table_name);
      for (const s of seqs) await londisteSql.globalUpdateSeq(db, log, queue, s.seq_name, s.last_value);
    });
  } catch (err) {
    log.warning(`undoing the registration of ${name} on the provider and root`);
    const quiet = silentLogger;
    if (subscribed) await pgqNode.unregisterSubscriber(providerDb, quiet, queue, name).catch(() => undefined);
    if (providerDb !== rootDb) await pgqNode.unregisterLocation(providerDb, quiet, queue, name).catch(() => undefined);
    await pgqNode.unregisterLocation(rootDb, quiet, queue, name).catch(() => undefined);
    throw err;
  }
  log.info('Done');
}
