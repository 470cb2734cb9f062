/**
 * create-root / create-branch / create-leaf: install the schemas when missing, register the node
 * with the root and its provider, and initialise it, as upstream's cascade admin does.
 * Every check runs before the first change; if the local step fails after the provider was told
 * about the node, those registrations are undone.
 */
import type pg from 'pg';
import { installSchemas, maskConnstr, parseConnstr, SkytoolsError, UsageError, withTransaction } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { checkReplicaRole } from '../replica-role-check.js';
import type { NodeInfoRow } from '../queue-info.js';

export type NodeType = 'root' | 'branch' | 'leaf';

/** ticker_max_lag of a queue made by create-root. */
export const ROOT_TICKER_MAX_LAG = '100 milliseconds';

export interface CreateNodeOptions {
  type: NodeType;
  nodeName: string | undefined;
  location: string | undefined;
  provider: string | undefined;
}

/** Does the public location reach the same database as the local connection? */
async function checkPublicLocation(admin: NodeAdmin, local: pg.ClientBase, location: string): Promise<void> {
  const q = `SELECT d.oid::text AS oid, d.datname, txid_current()::text AS txid, txid_current_snapshot()::text AS snap
               FROM pg_catalog.pg_database d WHERE d.datname = current_database()`;
  type Row = { oid: string; datname: string; txid: string; snap: string };
  const before = (await local.query<Row>(q)).rows[0];
  const pub = await admin.database('pub_db', location);
  let remote: Row | undefined;
  try {
    remote = (await pub.query<Row>(q)).rows[0];
  } finally {
    await admin.closeDatabase('pub_db');
  }
  const after = (await local.query<Row>(q)).rows[0];
  if (before === undefined || remote === undefined || after === undefined) throw new SkytoolsError('cannot compare database identities');
  // the remote transaction must be invisible before and visible after: same cluster, same time line
  const vis = await local.query<{ before: boolean; after: boolean }>(
    'SELECT txid_visible_in_snapshot($1::bigint, $2::txid_snapshot) AS before, txid_visible_in_snapshot($1::bigint, $3::txid_snapshot) AS after',
    [remote.txid, before.snap, after.snap],
  );
  const v = vis.rows[0];
  if (before.oid !== remote.oid || before.datname !== remote.datname || v === undefined || v.before || !v.after) {
    throw new UsageError(`Public connect string '${maskConnstr(location)}' points to a different database than the local connect string (db in ${admin.job.file})`);
  }
}

export async function createNode(admin: NodeAdmin, opts: CreateNodeOptions): Promise<void> {
  const log = admin.log;
  const queue = admin.queue;
  const name = opts.nodeName;
  if (name === undefined || name === '') throw new UsageError('Node name must be given in the command line');
  const location = opts.location ?? admin.job.public_node_location ?? admin.job.db;
  const params = parseConnstr(location);
  if (params['host'] === undefined && params['service'] === undefined && params['hostaddr'] === undefined) {
    log.warning('No host= in public connect string, bad idea');
  }

  const db = await admin.db();
  // a node that receives data must be able to apply it; find out before changing anything
  if (opts.type !== 'root') await checkReplicaRole(db, admin.job.db);
  await installSchemas(db, ['pgq', 'pgq_ext', 'pgq_node', 'londiste'], { logger: log });

  const current = (await db.query<NodeInfoRow>('SELECT * FROM pgq_node.get_node_info($1)', [queue])).rows[0];
  if (current?.node_type !== null && current?.node_type !== undefined) {
    if (current.node_name === name && current.node_type === opts.type) {
      log.info(`Node is already initialized as ${current.node_type}`);
      return;
    }
    throw new UsageError(`this database already has node "${current.node_name ?? '?'}" (${current.node_type}) for queue "${queue}"; drop it first (drop-node) or use another database`);
  }

  await checkPublicLocation(admin, db, location);
  log.info('Initializing node');
  const worker = admin.job.job_name;

  if (opts.type === 'root') {
    await withTransaction(db, async () => {
      const existed = ((await db.query('SELECT 1 FROM pgq.queue WHERE queue_name = $1', [queue])).rowCount ?? 0) > 0;
      await admin.exec(db, 'SELECT * FROM pgq_node.register_location($1, $2, $3, false)', [queue, name, location]);
      await admin.exec(db, 'SELECT * FROM pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)', [queue, 'root', name, worker, null, null, null]);
      // a new queue ticks as soon as events wait (upstream waits up to 3 s), so that with pgqd's
      // ticker_period replication lag stays sub-second; an idle queue still backs off to
      // ticker_idle_period. A queue that existed keeps its settings.
      if (!existed) {
        log.debug(`exec_query: select pgq.set_queue_config('${queue}', 'ticker_max_lag', '${ROOT_TICKER_MAX_LAG}')`);
        await db.query(`SELECT pgq.set_queue_config($1, 'ticker_max_lag', $2)`, [queue, ROOT_TICKER_MAX_LAG]);
      }
    });
    log.info('Done');
    return;
  }

  const providerLoc = opts.provider ?? admin.job.initial_provider_location;
  if (providerLoc === undefined || providerLoc === '') throw new UsageError(`Please specify --provider (or initial_provider_location in ${admin.job.file})`);

  // every check before the first change
  const rootDb = await admin.rootDb(providerLoc);
  const members = await admin.members(rootDb);
  if (members.some((m) => m.name === name)) {
    throw new UsageError(`Node '${name}' already exists in queue "${queue}"; pick another name or drop-node it first`);
  }
  const providerDb = await admin.database('provider_db', providerLoc);
  const prov = (await providerDb.query<NodeInfoRow>('SELECT * FROM pgq_node.get_node_info($1)', [queue])).rows[0];
  const providerName = prov?.node_name ?? null;
  if (providerName === null || prov?.node_type === null) {
    throw new UsageError(`provider node not found: no node for queue "${queue}" at ${maskConnstr(providerLoc)}`);
  }
  if (prov?.node_type === 'leaf') throw new UsageError(`provider ${providerName} is a leaf node; a leaf cannot have subscribers`);
  if (!members.some((m) => m.name === providerName)) throw new UsageError(`Node ${providerName} does not exist`);

  await admin.exec(rootDb, 'SELECT * FROM pgq_node.register_location($1, $2, $3, false)', [queue, name, location]);
  let subscribed = false;
  try {
    if (providerDb !== rootDb) {
      await admin.exec(providerDb, 'SELECT * FROM pgq_node.register_location($1, $2, $3, false)', [queue, name, location]);
    }
    const sub = await admin.exec(providerDb, 'SELECT * FROM pgq_node.register_subscriber($1, $2, $3, null)', [queue, name, worker]);
    subscribed = true;
    const globalWatermark = sub[0]?.['global_watermark'] ?? null;

    const tables = await providerDb.query<{ table_name: string }>('SELECT table_name FROM londiste.get_table_list($1)', [queue]);
    const seqs = await providerDb.query<{ seq_name: string; last_value: string }>('SELECT seq_name, last_value FROM londiste.get_seq_list($1)', [queue]);

    await withTransaction(db, async () => {
      await admin.exec(db, 'SELECT * FROM pgq_node.register_location($1, $2, $3, false)', [queue, name, location]);
      for (const m of members) {
        await admin.exec(db, 'SELECT * FROM pgq_node.register_location($1, $2, $3, $4)', [queue, m.name, m.location, m.dead]);
      }
      await admin.exec(db, 'SELECT * FROM pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)', [queue, opts.type, name, worker, providerName, globalWatermark, null]);
      // the provider's table and sequence lists, so add-table here knows what exists upstream
      for (const t of tables.rows) await admin.exec(db, 'SELECT * FROM londiste.global_add_table($1, $2)', [queue, t.table_name], true);
      for (const s of seqs.rows) await admin.exec(db, 'SELECT * FROM londiste.global_update_seq($1, $2, $3)', [queue, s.seq_name, s.last_value], true);
    });
  } catch (err) {
    log.warning(`undoing the registration of ${name} on the provider and root`);
    if (subscribed) await providerDb.query('SELECT * FROM pgq_node.unregister_subscriber($1, $2)', [queue, name]).catch(() => undefined);
    if (providerDb !== rootDb) await providerDb.query('SELECT * FROM pgq_node.unregister_location($1, $2)', [queue, name]).catch(() => undefined);
    await rootDb.query('SELECT * FROM pgq_node.unregister_location($1, $2)', [queue, name]).catch(() => undefined);
    throw err;
  }
  log.info('Done');
}
