/**
 * Connections and node lookups shared by the admin commands: the local node database ('db'),
 * its provider ('provider_db'), the root ('root_db') and any member by name. The local
 * connection waits at most lock_timeout for table locks. Everything opened here is closed by
 * close().
 */
import type pg from 'pg';
import { connect, maskConnstr, pgDiagnostics, pgqNode, session, SkytoolsError, SQLSTATE, UsageError, type Logger, type MemberInfo, type NodeInfoRow } from '@skytools/core';
import type { JobConfig } from './job-config.js';

export class NodeAdmin {
  private readonly conns = new Map<string, pg.Client>();
  private nodeInfoCache: NodeInfoRow | undefined;
  private membersCache: MemberInfo[] | undefined;
  /** Nodes an operation must not contact (--dead=NODE), on top of those tagged dead. */
  private readonly treatedDead = new Set<string>();

  constructor(
    readonly job: JobConfig,
    readonly log: Logger,
  ) {}

  get queue(): string {
    return this.job.queue_name;
  }

  treatAsDead(names: readonly string[]): void {
    for (const n of names) this.treatedDead.add(n);
  }

  isTreatedDead(name: string): boolean {
    return this.treatedDead.has(name);
  }

  /** Forget cached node info and members: a cascade operation changed them. */
  refresh(): void {
    this.nodeInfoCache = undefined;
    this.membersCache = undefined;
  }

  /** A named connection, opened on first use. */
  async database(name: string, connstr: string): Promise<pg.Client> {
    const existing = this.conns.get(name);
    if (existing !== undefined) return existing;
    const client = await connect(connstr, { name, logger: this.log, applicationName: `londiste ${this.job.job_name}` });
    this.conns.set(name, client);
    return client;
  }

  async closeDatabase(name: string): Promise<void> {
    const c = this.conns.get(name);
    this.conns.delete(name);
    if (c !== undefined) await c.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const name of [...this.conns.keys()]) await this.closeDatabase(name);
  }

  /** The local node database; its statements wait at most lock_timeout for a lock. */
  async db(): Promise<pg.Client> {
    const fresh = !this.conns.has('db');
    const client = await this.database('db', this.job.db);
    if (fresh) await session.setLockTimeout(client, this.job.lock_timeout);
    return client;
  }

  /** pgq_node.get_node_info for the job's queue on the local node; throws a clear error when absent. */
  async localNodeInfo(): Promise<NodeInfoRow> {
    if (this.nodeInfoCache !== undefined) return this.nodeInfoCache;
    const db = await this.db();
    // asked straight away (every command starts here): pgq_node missing shows as its function missing
    const row = await pgqNode.getNodeInfo(db, this.queue).catch(async (err: unknown) => {
      const { code } = pgDiagnostics(err);
      // the same codes from inside it (a schema it uses dropped) are not "not installed"
      if ((code !== SQLSTATE.undefinedFunction && code !== SQLSTATE.invalidSchemaName) || (await pgqNode.isInstalled(db))) throw err;
      throw new UsageError(`no cascade node in ${maskConnstr(this.job.db)}: pgq_node is not installed; run create-root, create-branch or create-leaf first`, { cause: err });
    });
    if (row === undefined || row.node_type === null || row.ret_code >= 400) {
      const list = await pgqNode.nodeQueues(db);
      throw new UsageError(
        list.length === 0
          ? `queue "${this.queue}" has no node in ${maskConnstr(this.job.db)}: run create-root, create-branch or create-leaf first`
          : `queue "${this.queue}" has no node in ${maskConnstr(this.job.db)} (it has: ${list.join(', ')}); check queue_name in ${this.job.file}`,
      );
    }
    this.nodeInfoCache = row;
    return row;
  }

  /** The queue's members as the local node (or the given connection) knows them. */
  async members(client?: pg.ClientBase): Promise<MemberInfo[]> {
    if (client === undefined && this.membersCache !== undefined) return this.membersCache;
    const list = await pgqNode.getQueueLocations(client ?? (await this.db()), this.queue);
    if (client === undefined) this.membersCache = list;
    return list;
  }

  async member(name: string): Promise<MemberInfo> {
    const m = (await this.members()).find((x) => x.name === name);
    if (m === undefined) throw new UsageError(`Unknown node: ${name}`);
    return m;
  }

  /** Connection to a member node by name (connection name node_<name>). */
  async nodeDatabase(name: string): Promise<pg.Client> {
    const info = await this.localNodeInfo();
    if (name === info.node_name) return this.db();
    const m = await this.member(name);
    if (this.treatedDead.has(name)) throw new UsageError(`node ${name} is treated as dead (--dead) and is not contacted`);
    if (m.location === null) throw new SkytoolsError(`node ${name} has no location registered`);
    return this.database(`node_${name}`, m.location);
  }

  /** The provider of the local node (or of copy_node when given). */
  async providerDb(copyNode?: string): Promise<pg.Client> {
    const info = await this.localNodeInfo();
    if (copyNode !== undefined && copyNode !== '') {
      if (copyNode === info.node_name) throw new UsageError('Cannot use itself as provider');
      const m = await this.member(copyNode);
      if (m.location === null) throw new UsageError(`Cannot find node <${copyNode}>`);
      return this.database('provider_db', m.location);
    }
    if (info.node_type === 'root' || info.provider_location === null) return this.db();
    return this.database('provider_db', info.provider_location);
  }

  private foundRootLocation: string | undefined;

  /** The root's connection string (found by walking provider links). */
  async rootLocation(): Promise<string> {
    await this.rootDb();
    if (this.foundRootLocation === undefined) throw new SkytoolsError('no root found');
    return this.foundRootLocation;
  }

  /** Walk provider links up to the root, starting from a location (or the local node). */
  async rootDb(startLocation?: string): Promise<pg.Client> {
    let location = startLocation ?? this.job.db;
    for (let hops = 0; hops < 50; hops++) {
      const local = hops === 0 && startLocation === undefined;
      if (!local) await this.closeDatabase('root_db');
      const client = local ? await this.db() : await this.database('root_db', location);
      if (!(await pgqNode.isInstalled(client))) {
        throw new UsageError(`no cascade node at ${maskConnstr(location)}: pgq_node is not installed there`);
      }
      const row = await pgqNode.getNodeInfo(client, this.queue);
      if (row === undefined || row.node_type === null) {
        throw new UsageError(`no node for queue "${this.queue}" at ${maskConnstr(location)}; is the provider initialized?`);
      }
      if (row.node_type === 'root') {
        this.foundRootLocation = local ? this.job.db : location;
        return client;
      }
      if (row.provider_location === null) throw new SkytoolsError(`node ${row.node_name ?? '?'} has no provider location`);
      location = row.provider_location;
    }
    throw new SkytoolsError(`no root found for queue "${this.queue}" within 50 provider hops (a provider loop?)`);
  }
}
