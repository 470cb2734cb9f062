/**
 * check-privileges: what this job's database users need on this node and on its provider, each
 * checked, with the GRANT (or ALTER) that gives what is missing. The least-privilege set-up
 * documented in docs/londiste.md is exactly these checks.
 */
import type pg from 'pg';
import { catalog, describeError, londisteSql, maskConnstr, parseConnstr, pgDiagnostics, session, splitFqname, SQLSTATE, UsageError } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { alterOwner, grantCreateOnSchema, grantReplicaRole, grantRole, grantSelect } from '../sql/grant-statements.js';
import type { Output } from './status.js';

interface Check {
  ok: boolean;
  /** What is needed, e.g. "member of pgq_admin". */
  need: string;
  /** Why the job needs it. */
  why: string;
  /** The statement that gives it (run as a superuser on `where`). */
  fix: string;
  /** Not needed, only advised: its absence is shown but is no failure. */
  advised?: boolean;
}

async function roleCheck(db: pg.ClientBase, user: string, superuser: boolean, role: string, why: string): Promise<Check> {
  return { ok: superuser || (await catalog.isMemberOf(db, role)), need: `member of ${role}`, why, fix: grantRole(role, user) };
}

export async function cmdCheckPrivileges(admin: NodeAdmin, out: Output): Promise<void> {
  const db = await admin.db();
  const me = await catalog.privilegeFacts(db);
  let info: Awaited<ReturnType<NodeAdmin['localNodeInfo']>>;
  try {
    info = await admin.localNodeInfo();
  } catch (err) {
    if (pgDiagnostics(err).code !== SQLSTATE.insufficientPrivilege) throw err;
    // without it nothing else of the node can be read: the first grant, then the rest
    out(`this node (user ${me.user}):`);
    out(`  MISSING member of pgq_admin: the worker and the admin commands run the pgq, pgq_node and londiste functions\n          fix: ${grantRole('pgq_admin', me.user)}`);
    throw new UsageError(`check-privileges: user ${me.user} cannot read this node's state (${describeError(err)}); run ${grantRole('pgq_admin', me.user)} as a superuser here, then check-privileges again for the rest`);
  }
  const tables = (await londisteSql.getTableList(db, admin.queue)).filter((t) => t.local);
  const sections: { where: string; checks: Check[] }[] = [];

  const local: Check[] = [await roleCheck(db, me.user, me.superuser, 'pgq_admin', 'the worker and the admin commands run the pgq, pgq_node and londiste functions')];
  if (info.node_type !== 'root') {
    const { serverVersion } = await session.whoAmI(db);
    local.push({
      ok: await session.canSetReplicaRole(db),
      need: 'SET session_replication_role',
      why: 'replicated changes are applied with the target\'s triggers and foreign keys quiet',
      fix: grantReplicaRole(me.user, serverVersion),
    });
  }
  const copiedInto = new Set<string>();
  for (const t of tables) {
    const dest = t.dest_table ?? t.table_name;
    const own = await catalog.tableOwnership(db, dest);
    if (own === undefined) continue;
    local.push({
      ok: me.superuser || own.mine,
      need: `owner of ${dest} (now ${own.owner})`,
      why: info.node_type === 'root' ? 'add-table and remove-table create and drop its capture triggers' : 'the initial copy empties it, and drops and builds its keys and indexes again around the load (with CREATE on its schema)',
      fix: alterOwner(dest, me.user),
    });
    // a partitioned table's copy keeps its indexes (table-copy's dropForLoad): CREATE would not help it
    if (info.node_type !== 'root' && !(await catalog.isPartitioned(db, dest))) copiedInto.add(splitFqname(dest).schema);
  }
  for (const schema of [...copiedInto].sort()) {
    local.push({
      ok: me.superuser || (await catalog.canCreateIn(db, schema)),
      advised: true,
      need: `CREATE on schema ${schema}`,
      why: 'not needed; with it an initial copy builds the keys and indexes of its tables after the rows instead of maintaining them row by row (faster)',
      fix: grantCreateOnSchema(schema, me.user),
    });
  }
  sections.push({ where: `this node ${info.node_name ?? '?'} (user ${me.user})`, checks: local });

  if (info.node_type !== 'root' && info.provider_location !== null) {
    const provUser = parseConnstr(info.provider_location)['user'] ?? '(default user)';
    const where = `provider ${info.provider_node ?? '?'} at '${maskConnstr(info.provider_location)}' (user ${provUser})`;
    let prov: pg.ClientBase | undefined;
    try {
      prov = await admin.providerDb();
    } catch (err) {
      sections.push({ where, checks: [{ ok: false, need: 'a connection', why: 'the worker reads batches there', fix: `-- ${describeError(err)}` }] });
    }
    if (prov !== undefined) {
      const pf = await catalog.privilegeFacts(prov);
      const checks: Check[] = [await roleCheck(prov, pf.user, pf.superuser, 'pgq_reader', 'the worker reads batches and reports its position there')];
      const srcTables = new Map((await londisteSql.getTableList(prov, admin.queue)).map((t) => [t.table_name, t.dest_table ?? t.table_name]));
      for (const t of tables) {
        const src = srcTables.get(t.table_name);
        if (src === undefined || (await catalog.tableOwnership(prov, src)) === undefined) continue;
        checks.push({ ok: pf.superuser || (await catalog.canSelect(prov, src)), need: `SELECT on ${src}`, why: 'the initial copy reads it', fix: grantSelect(src, pf.user) });
      }
      sections.push({ where, checks });
    }
  }

  let missing = 0;
  for (const s of sections) {
    out(`${s.where}:`);
    for (const c of s.checks) {
      if (!c.ok && c.advised !== true) missing += 1;
      out(`  ${c.ok ? 'ok     ' : c.advised === true ? 'advised' : 'MISSING'} ${c.need}: ${c.why}${c.ok ? '' : `\n          fix: ${c.fix}`}`);
    }
  }
  out('monitoring (status from any node): member of pgq_reader on every node, nothing else');
  if (missing > 0) throw new UsageError(`check-privileges: ${String(missing)} privilege${missing === 1 ? '' : 's'} missing; run the statements after "fix:" as a superuser where the heading says`);
}
