/** Table membership of a node: add-table, remove-table, resync, tables, missing. */
import type pg from 'pg';
import { checkHandler } from '../handlers/handler-registry.js';
import { formatHandler, parseHandlerArgs, type Handler, type HandlerChoice } from '../handlers/handler.js';
import { catalog, CommandFailedError, formatDisplayTable, heldLogger, londisteSql, quietLogger, session, UsageError, urlDecode, urlEncode, type Cell, type ColumnInfo, type Logger, type TableErrorRow } from '@skytools/core';
import { tableErrorLine } from '../node-status-loader.js';
import type { NodeAdmin } from '../node-admin.js';
import { checkColumns, type LocalColumns } from '../replay/column-check.js';
import { loadTableStates, type TableState } from '../replay/table-state.js';
import { expandObjectArgs, fqName, parseObjectArg } from '../object-args.js';
import { createTable, loadTableDefinition, type CreateLevel } from '../sql/table-ddl.js';
import { checkCopyNodeOptions, resolveCopyFrom, type CopyFrom, type CopyNodeOptions } from './copy-node-option.js';
import { mirrorProviderList } from './provider-list.js';
import type { Output } from './status.js';

export interface AddTableOptions {
  all: boolean;
  force: boolean;
  destTable?: string | undefined;
  where?: string | undefined;
  create: boolean;
  createFull: boolean;
  expectSync: boolean;
  skipTruncate: boolean;
  triggerFlags?: string | undefined;
  triggerArg: string[];
  noTriggers: boolean;
  noMerge: boolean;
  mergeAll: boolean;
  /** --handler NAME and its --handler-arg KEY=VALUE list. */
  handler?: string | undefined;
  handlerArgs?: readonly string[];
  maxParallelCopy?: number | undefined;
  skipNonExisting: boolean;
  copyNode?: string | undefined;
  findCopyNode: boolean;
}

interface SetTable {
  table_name: string;
  local: boolean;
  dest_table: string;
}

async function setTables(client: pg.ClientBase, queue: string): Promise<Map<string, SetTable>> {
  return setTablesOf(await loadTableStates(client, queue));
}

function setTablesOf(states: ReadonlyMap<string, TableState>): Map<string, SetTable> {
  return new Map([...states.values()].map((t) => [t.name, { table_name: t.name, local: t.local, dest_table: t.dest }]));
}

function sameNames(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  return a.size === b.size && [...a.keys()].every((k) => b.has(k));
}

/** Make the local table list mirror the provider's (tables added or removed upstream since). */
async function syncTableList(admin: NodeAdmin, dst: pg.ClientBase, src: Map<string, SetTable>, local: Map<string, SetTable>): Promise<void> {
  const quiet = quietLogger(admin.log);
  await mirrorProviderList(admin.log, 'Table', [...src.keys()], [...local.keys()], {
    add: async (name) => {
      await londisteSql.globalAddTable(dst, quiet, admin.queue, name);
      local.set(name, { table_name: name, local: false, dest_table: name });
    },
    remove: async (name) => {
      await londisteSql.globalRemoveTable(dst, quiet, admin.queue, name);
      local.delete(name);
    },
  });
}

function triggerArgs(o: AddTableOptions): string[] {
  const args = [...o.triggerArg];
  if (o.triggerFlags !== undefined && o.triggerFlags !== '') args.push(`tgflags=${o.triggerFlags}`);
  if (o.noTriggers) args.push('no_triggers');
  if (o.noMerge) args.push('no_merge');
  if (o.mergeAll) args.push('merge_all');
  if (o.expectSync) args.push('expect_sync');
  return args;
}

export async function cmdAddTable(admin: NodeAdmin, names: readonly string[], o: AddTableOptions): Promise<void> {
  const info = await admin.localNodeInfo();
  const isRoot = info.node_type === 'root';
  if ((o.mergeAll || o.noMerge) && info.node_type !== 'leaf') {
    throw new UsageError(`--${o.mergeAll ? 'merge-all' : 'no-merge'} is for a leaf that merges several queues into one table; this node is a ${info.node_type ?? 'missing node'}; nothing was changed`);
  }
  checkCopyNodeOptions(o, { isRoot, expectSync: o.expectSync, mergeAll: o.mergeAll });
  const handler = chosenHandler(o.handler, o.handlerArgs ?? []);
  // a handler that passes events elsewhere needs no table here
  const needsTable = handler?.impl.needsTable ?? true;
  const dst = await admin.db();
  if (handler !== undefined) await handlerFitsHere(handler, dst);
  if (o.destTable !== undefined && names.length > 1) throw new UsageError('--dest-table can be given only for single table');
  const destArg = o.destTable === undefined ? undefined : parseObjectArg(o.destTable);
  if (isRoot && o.where !== undefined) {
    admin.log.warning('--where on the root only filters the initial copy of its subscribers added later; set it on each subscriber');
  }

  const createLevel: CreateLevel | undefined = o.createFull ? 'full' : o.create ? 'minimal' : undefined;
  const wanted = { keys: needsTable && (!o.noTriggers || !isRoot), columns: !isRoot && needsTable };
  const lookHere = async (local: Map<string, SetTable>, log: Logger): Promise<LocalSide> => {
    const tables = await expandObjectArgs(dst, log, admin.queue, 'r', false, names, {
      all: o.all,
      force: o.force,
      // a table to be created here is not local yet, and a skipped one is reported below
      allowMissing: createLevel !== undefined || o.skipNonExisting || !needsTable,
    });
    return { local, tables, facts: await localFacts(dst, tables.map((t) => fqName(destArg ?? t)), wanted) };
  };
  // this node's side (its list, the tables named, their keys and columns) is read while the
  // provider's connection opens and its list is read: most of add-table's time before the first
  // table is added (the worker starts copying then) is round trips. What it finds, and says, holds
  // only if the local list already follows the provider's; otherwise it is read again after
  // that. Both settle before an error goes on, so that an open connection is the admin's to
  // close, and the local error wins.
  const early = heldLogger(admin.log);
  const [localRead, providerRead] = await Promise.allSettled([
    setTables(dst, admin.queue).then(async (local) => ({ local, side: await lookHere(local, early).then((found): Looked => ({ found }), (failed: unknown): Looked => ({ failed })) })),
    isRoot ? undefined : admin.providerDb().then(async (c) => ({ provider: c, states: await loadTableStates(c, admin.queue) })),
  ]);
  if (localRead.status === 'rejected') throw localRead.reason;
  if (providerRead.status === 'rejected') throw providerRead.reason;
  const { local } = localRead.value;
  const provider = providerRead.value?.provider;
  const providerStates = providerRead.value?.states;
  const src = providerStates === undefined ? local : setTablesOf(providerStates);
  let here: LocalSide;
  if (sameNames(src, local)) {
    early.flush();
    const side = localRead.value.side;
    if ('failed' in side) throw side.failed;
    here = side.found;
  } else {
    early.drop();
    await session.withTransaction(dst, () => syncTableList(admin, dst, src, local));
    here = await lookHere(local, admin.log);
  }
  const tables = here.tables;
  // where the tables' rows come from (the provider, or the node --copy-node names or
  // --find-copy-node finds): the tables are checked there; the events still come from the provider
  const from = provider === undefined ? undefined : await resolveCopyFrom(admin, o, provider, tables, providerStates);
  try {
    await addTables(admin, o, { isRoot, tables, facts: here.facts, src, from, handler, needsTable, createLevel, destArg });
  } finally {
    await from?.close();
  }
}

/** What add-table reads of the local tables before adding any (by local name), in one round trip each. */
interface LocalFacts extends LocalColumns {
  /** Whether each relation found has a primary key (asked only when add-table needs it). */
  keys: Map<string, boolean>;
  /** The tables found. */
  existing: Set<string>;
}

interface LocalSide {
  /** The queue's tables on this node, replicated here or not. */
  local: Map<string, SetTable>;
  /** The tables named (or --all), as found on this node. */
  tables: string[];
  facts: LocalFacts;
}

/** This node's side as read ahead, or what reading it failed with. */
type Looked = { found: LocalSide } | { failed: unknown };

async function localFacts(dst: pg.ClientBase, dests: readonly string[], wanted: { keys: boolean; columns: boolean }): Promise<LocalFacts> {
  const [keys, existing, columns] = await Promise.all([
    wanted.keys ? catalog.primaryKeysOf(dst, dests) : new Map<string, boolean>(),
    catalog.relationsExisting(dst, dests, 'table'),
    wanted.columns ? catalog.columnsOf(dst, dests) : new Map<string, ColumnInfo[]>(),
  ]);
  return { keys, existing, columns };
}

interface AddPlan {
  isRoot: boolean;
  tables: string[];
  facts: LocalFacts;
  /** The provider's table list (the root's own). */
  src: Map<string, SetTable>;
  /** Where the rows come from; undefined on the root. */
  from: CopyFrom | undefined;
  handler: { choice: HandlerChoice; impl: Handler } | undefined;
  needsTable: boolean;
  createLevel: CreateLevel | undefined;
  destArg: string | undefined;
}

async function addTables(admin: NodeAdmin, o: AddTableOptions, p: AddPlan): Promise<void> {
  const { isRoot, tables, facts, from, handler, needsTable, createLevel, destArg } = p;
  const dst = await admin.db();
  const srcDb: pg.ClientBase = from?.db ?? dst;
  // a table this node can copy: the provider's queue carries it, and the copy source has it
  const copyable = (t: string): boolean => p.src.has(t) && (from?.tables.get(t)?.local ?? false);
  const sourceName = (t: string): string => from?.tables.get(t)?.dest ?? t;

  if (!isRoot && !o.expectSync) {
    const problems = tables.filter((t) => !copyable(t));
    if (problems.length > 0 && !o.skipNonExisting) {
      const where = from?.label ?? 'the provider';
      throw new UsageError(`${problems.length === 1 ? 'Table' : 'Tables'} ${problems.join(', ')} not replicated by ${where}: add ${problems.length === 1 ? 'it' : 'them'} there first, or switch to a different provider${from?.attr === undefined ? '' : ' or copy node'}; nothing was changed`);
    }
    for (const t of problems) admin.log.warning(`Table ${t} does not exist on ${from?.label ?? 'provider'}: left out as --skip-non-existing asks`);
  }

  // londiste.local_add_table refuses a table without primary key; find them all before adding any
  if (needsTable && (!o.noTriggers || !isRoot)) {
    for (const tbl of tables) {
      const dest = fqName(destArg ?? tbl);
      if (facts.keys.get(dest) === false) {
        const desc = dest === tbl ? tbl : `${tbl}(${dest})`;
        admin.log.error(`Primary key missing on table: ${desc}`);
        throw new CommandFailedError(400, `Primary key missing on table: ${desc}`);
      }
    }
  }

  // a table to be created needs the provider's definition; find every one that lacks it before adding any
  const cannotCreate = new Set<string>();
  if (createLevel !== undefined) {
    for (const tbl of tables) {
      if (!isRoot && !o.expectSync && !copyable(tbl)) continue;
      if (facts.existing.has(fqName(destArg ?? tbl))) continue;
      if (!(await catalog.relationExists(srcDb, sourceName(tbl), 'table'))) cannotCreate.add(tbl);
    }
    if (cannotCreate.size > 0 && !o.skipNonExisting) {
      throw new UsageError(`cannot create ${[...cannotCreate].join(', ')}: missing here and its table is missing on ${from?.label ?? 'the provider'}; nothing was changed (--skip-non-existing leaves them out)`);
    }
  }

  // a subscriber's table must hold every column its provider sends; find every misfit before adding any
  if (!isRoot && needsTable) {
    const checked = tables.filter(copyable);
    const pairs = checked.map((tbl) => ({ source: sourceName(tbl), dest: fqName(destArg ?? tbl) }));
    const found = await checkColumns(srcDb, facts, pairs);
    const misfits: string[] = [];
    checked.forEach((tbl, i) => {
      const dest = fqName(destArg ?? tbl);
      const problems = found[i] ?? [];
      if (problems.length > 0) misfits.push(`${dest === tbl ? tbl : `${tbl}(${dest})`}: ${problems.join(', ')}`);
    });
    if (misfits.length > 0) {
      throw new UsageError(`the provider's columns do not fit here: ${misfits.join('; ')}; nothing was changed (alter the tables here to match, or create them with --create)`);
    }
  }

  const tgargs = [...triggerArgs(o), ...(handler?.impl.triggerArgs?.(handler.choice.args) ?? [])];
  for (const tbl of tables) {
    if (!isRoot && !o.expectSync && !copyable(tbl)) continue;
    const dest = fqName(destArg ?? tbl);
    const desc = dest === tbl ? tbl : `${tbl}(${dest})`;
    const exists = facts.existing.has(dest);
    if (createLevel !== undefined && !exists) {
      const srcName = sourceName(tbl);
      if (cannotCreate.has(tbl)) {
        // only with --skip-non-existing (refused above otherwise)
        admin.log.warning(`Table ${desc} missing on ${from?.label ?? 'provider'}, cannot create: left out as --skip-non-existing asks`);
        continue;
      }
      const def = await loadTableDefinition(srcDb, srcName);
      await session.withTransaction(dst, () => createTable(dst, admin.log, def, srcName, dest, createLevel));
      admin.log.info(`Created table ${dest}`);
    } else if (createLevel !== undefined) {
      admin.log.info(`Table ${desc} already exist, not touching`);
    } else if (!exists && needsTable) {
      if (o.skipNonExisting) {
        admin.log.warning(`Table ${desc} does not exist on local node, skipping`);
        continue;
      }
      throw new UsageError(`Table ${desc} does not exist on local node; create it first or use --create / --create-full`);
    }

    const attrs: Record<string, string> = {};
    if (!o.expectSync && o.skipTruncate) attrs['skip_truncate'] = '1';
    if (o.maxParallelCopy !== undefined) attrs['max_parallel_copy'] = String(o.maxParallelCopy);
    if (o.where !== undefined && o.where !== '') attrs['where'] = o.where;
    if (handler !== undefined) attrs['handler'] = formatHandler(handler.choice);
    if (from?.attr !== undefined && !o.expectSync) attrs['copy_node'] = from.attr;
    const encoded = Object.keys(attrs).length > 0 ? urlEncode(attrs) : null;
    await londisteSql.localAddTable(dst, admin.log, admin.queue, tbl, tgargs, encoded, dest === tbl ? null : dest);
  }
}

/** The handler given on the command line, checked (unknown name or argument: refused, nothing changed). */
function chosenHandler(name: string | undefined, argList: readonly string[]): { choice: HandlerChoice; impl: Handler } | undefined {
  if (name === undefined) {
    if (argList.length > 0) throw new UsageError('--handler-arg needs --handler=NAME; nothing was changed');
    return undefined;
  }
  try {
    const choice = { name, args: parseHandlerArgs(argList) };
    return { choice, impl: checkHandler(choice) };
  } catch (err) {
    throw new UsageError(`--handler=${name}: ${(err as Error).message}; nothing was changed`, { cause: err });
  }
}

/** What the handler needs on this node is there (its function, its queue). */
async function handlerFitsHere(handler: { choice: HandlerChoice; impl: Handler }, db: pg.ClientBase): Promise<void> {
  try {
    await handler.impl.checkNode?.(handler.choice.args, db);
  } catch (err) {
    throw new UsageError(`--handler=${handler.choice.name}: ${(err as Error).message}; nothing was changed`, { cause: err });
  }
}

/** change-handler: a replicated table's handler replaced (its triggers re-created to match). */
export async function cmdChangeHandler(admin: NodeAdmin, table: string, o: { handler?: string | undefined; handlerArgs: readonly string[] }): Promise<void> {
  await admin.localNodeInfo();
  const db = await admin.db();
  const [name] = await expandObjectArgs(db, admin.log, admin.queue, 'r', true, [table], { all: false, force: false });
  if (name === undefined) throw new UsageError(`change-handler: table ${table} is not replicated on this node`);
  const row = (await londisteSql.getTableList(db, admin.queue)).find((t) => t.table_name === name);
  const attrs = urlDecode(row?.table_attrs ?? null);
  // no --handler: back to the default
  const handler = chosenHandler(o.handler, o.handlerArgs);
  if (handler !== undefined) await handlerFitsHere(handler, db);
  if (handler === undefined) delete attrs['handler'];
  else attrs['handler'] = formatHandler(handler.choice);
  const kept = Object.fromEntries(Object.entries(attrs).filter((e): e is [string, string] => e[1] !== null));
  const tgargs = handler?.impl.triggerArgs?.(handler.choice.args) ?? [];
  await londisteSql.localChangeHandler(db, admin.log, admin.queue, name, tgargs, Object.keys(kept).length === 0 ? null : urlEncode(kept));
}

export async function cmdRemoveTable(admin: NodeAdmin, names: readonly string[], o: { all: boolean; force: boolean }): Promise<void> {
  await admin.localNodeInfo();
  const db = await admin.db();
  const tables = await expandObjectArgs(db, admin.log, admin.queue, 'r', true, names, o);
  for (const t of tables) await londisteSql.localRemoveTable(db, admin.log, admin.queue, t);
}

export async function cmdResync(admin: NodeAdmin, names: readonly string[], o: { all: boolean; force: boolean } & CopyNodeOptions): Promise<void> {
  const info = await admin.localNodeInfo();
  if (info.node_type === 'root') throw new UsageError('resync: the root node has no provider to copy from');
  checkCopyNodeOptions(o, { isRoot: false });
  const db = await admin.db();
  const local = new Map((await londisteSql.getTableList(db, admin.queue)).filter((t) => t.local).map((t) => [t.table_name, t]));
  if (!o.force) {
    // upstream logs "already processed" and does nothing; a resync that copies nothing is a mistake to point out
    const notLocal = names.filter((n) => n.includes('"') || !/[*?]/.test(n)).map(parseObjectArg).filter((n) => !local.has(n));
    if (notLocal.length > 0) {
      throw new UsageError(`resync: ${notLocal.join(', ')} ${notLocal.length === 1 ? 'is' : 'are'} not replicated on node ${info.node_name}; add ${notLocal.length === 1 ? 'it' : 'them'} with add-table`);
    }
  }
  const tables = await expandObjectArgs(db, admin.log, admin.queue, 'r', true, names, o);
  for (const t of tables) {
    if (await londisteSql.otherMergeParts(db, admin.queue, t)) {
      throw new UsageError(`resync: ${t} is one part of a table other queues here also feed; copying it again by itself would lose their rows: remove-table, then add-table --merge-all copies every part again; nothing was changed`);
    }
  }
  const provider = await admin.providerDb();
  const queueTables = await setTables(provider, admin.queue);
  const changesSource = o.copyNode !== undefined || o.findCopyNode;
  const from = await resolveCopyFrom(admin, o, provider, tables);
  try {
    // without the options, each table's own copy_node (if any) says where its copy reads from
    const ownSource = (t: string): boolean => !changesSource && urlDecode(local.get(t)?.table_attrs ?? null)['copy_node'] !== undefined;
    const problems = tables.filter((t) => !queueTables.has(t) || (!ownSource(t) && !(from.tables.get(t)?.local ?? false)));
    if (problems.length > 0) {
      throw new UsageError(`resync: ${problems.join(', ')} not replicated by ${from.label}: switch to a different provider${changesSource ? ' or copy node' : ''} first; nothing was changed`);
    }
  } finally {
    await from.close();
  }
  await session.withTransaction(db, async () => {
    for (const t of tables) {
      if (changesSource) {
        const attrs = urlDecode(local.get(t)?.table_attrs ?? null);
        if (from.attr === undefined) delete attrs['copy_node'];
        else attrs['copy_node'] = from.attr;
        await londisteSql.localSetTableAttrs(db, admin.log, admin.queue, t, Object.keys(attrs).length > 0 ? urlEncode(attrs) : null);
      }
      await londisteSql.localSetTableState(db, admin.log, admin.queue, t, null, null);
    }
  });
}

/** Python-style rendering of the attribute dict, as upstream shows table_attrs. */
function showAttrs(attrs: string | null): string {
  if (attrs === null || attrs === '') return '';
  const d = urlDecode(attrs);
  const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `{${Object.entries(d).map(([k, v]) => `${q(k)}: ${v === null ? 'None' : q(v)}`).join(', ')}}`;
}

export async function cmdTables(admin: NodeAdmin, out: Output, namesOnly: boolean): Promise<void> {
  await admin.localNodeInfo();
  const local = (await londisteSql.getTableList(await admin.db(), admin.queue)).filter((t) => t.local);
  if (namesOnly) {
    for (const row of local) out(row.table_name);
    return;
  }
  const db = await admin.db();
  const errors = (await londisteSql.recordsTableErrors(db)) ? new Map((await londisteSql.getTableErrors(db, admin.queue)).map((e) => [e.table_name, e])) : new Map<string, TableErrorRow>();
  // upstream's three columns; a fourth only while a table has a recorded failure
  const withErrors = local.some((row) => errors.has(row.table_name));
  const rows = local.map((row) => {
    const e = errors.get(row.table_name);
    const base: Cell[] = [row.table_name, row.merge_state, showAttrs(row.table_attrs)];
    return withErrors ? [...base, e === undefined ? '' : tableErrorLine(e).slice(row.table_name.length + 2)] : base;
  });
  const head = ['table_name', 'merge_state', 'table_attrs', ...(withErrors ? ['last_error'] : [])];
  for (const l of formatDisplayTable('Tables on node', head, rows)) out(l);
}

export async function cmdMissing(admin: NodeAdmin, out: Output): Promise<void> {
  await admin.localNodeInfo();
  const rows = (await londisteSql.localShowMissing(await admin.db(), admin.queue)).map((row) => [row.obj_kind, row.obj_name] as const);
  for (const l of formatDisplayTable('Missing objects on node', ['obj_kind', 'obj_name'], rows)) out(l);
}
