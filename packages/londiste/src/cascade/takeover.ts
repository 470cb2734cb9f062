/**
 * takeover: the node this job runs on (NEW) takes the place of OLD in the cascade.
 *
 * - OLD is the root and answers: a switchover. Captured writes on OLD are refused from the moment
 *   it is demoted until NEW is promoted; NEW first applies every event OLD ever queued, so nothing
 *   written on OLD is lost, then OLD becomes a branch under NEW and OLD's other subscribers move to NEW.
 * - OLD is a dead root (--dead-root): a failover to NEW, after NEW has caught up from the most
 *   advanced surviving branch; OLD keeps a "gravestone" position on NEW for a later resurrect.
 * - OLD is a branch: NEW takes its place (OLD then reads from NEW); --all also moves OLD's
 *   subscribers to NEW; with --dead-branch OLD is dead and only its subscribers move.
 *
 * Each run reads the state of the cascade first and goes on from wherever an earlier, interrupted
 * run stopped; every step is safe to run again.
 */
import type pg from 'pg';
import { describeError, londisteSql, pgq, pgqNode, quietLogger, SkytoolsError, sleep, UsageError, type NodeInfoRow } from '@skytools/core';
import type { NodeAdmin } from '../node-admin.js';
import { dependsOn, pauseOrFail, providersOf, resumeWorker, subscribeAt, switchProvider } from './provider-switch.js';
import { StepLog } from './step-log.js';

export interface TakeoverOptions {
  /** Branch takeover: also move OLD's subscribers to NEW. */
  all: boolean;
  deadRoot: boolean;
  deadBranch: boolean;
  /** Longest wait for a worker to stop (its batch in flight to commit). */
  waitMs: number;
  /** Refuse a switchover when NEW is further behind OLD than this. */
  maxLagSeconds: number;
  /** Longest wait for NEW to apply OLD's last tick. */
  catchUpMs: number;
}

export class TakeoverRefused extends UsageError {}

/** The suffix of the consumer a failover leaves on the new root in place of the dead one. */
export function gravestoneName(node: string): string {
  return `${node}.gravestone`;
}

interface Node {
  name: string;
  db: pg.ClientBase;
  info: NodeInfoRow;
  worker: string;
}

async function loadNode(admin: NodeAdmin, name: string): Promise<Node> {
  const db = await admin.nodeDatabase(name);
  const info = await pgqNode.getNodeInfo(db, admin.queue);
  if (info === undefined || info.node_type === null || info.worker_name === null) throw new TakeoverRefused(`takeover: ${name} is not a node of queue ${admin.queue}`);
  return { name, db, info, worker: info.worker_name };
}

async function reachable(admin: NodeAdmin, name: string): Promise<boolean> {
  if (admin.isTreatedDead(name)) return false;
  try {
    await pgqNode.getNodeInfo(await admin.nodeDatabase(name), admin.queue);
    return true;
  } catch {
    await admin.closeDatabase(`node_${name}`);
    return false;
  }
}

/** Alive members whose provider is `parent`, with their node info. */
async function subscribersOf(admin: NodeAdmin, parent: string, except: readonly string[]): Promise<Node[]> {
  const out: Node[] = [];
  for (const m of await admin.members()) {
    if (m.dead || m.name === parent || except.includes(m.name) || !(await reachable(admin, m.name))) continue;
    const n = await loadNode(admin, m.name);
    if (n.info.node_type !== 'root' && n.info.provider_node === parent) out.push(n);
  }
  return out;
}

async function completedTick(admin: NodeAdmin, n: Node): Promise<bigint> {
  const t = (await pgqNode.getConsumerState(n.db, quietLogger(admin.log), admin.queue, n.worker))?.completed_tick ?? null;
  return t === null ? -1n : BigInt(t);
}

async function tagDeadEverywhere(admin: NodeAdmin, dead: string): Promise<void> {
  for (const m of await admin.members()) {
    if (m.name === dead || m.dead || !(await reachable(admin, m.name))) continue;
    await pgqNode.registerLocation(await admin.nodeDatabase(m.name), quietLogger(admin.log), admin.queue, dead, null, true);
  }
  admin.refresh();
}

/** Wait until `n` has applied `tick`, resuming it if it is paused. */
async function waitForTick(admin: NodeAdmin, n: Node, tick: bigint, ms: number, steps: StepLog): Promise<void> {
  const st = await pgqNode.getConsumerState(n.db, quietLogger(admin.log), admin.queue, n.worker);
  if (st?.paused === true) {
    steps.note(`${n.name} is paused: resuming it to catch up`);
    await resumeWorker(admin, n.db, n.name, n.worker);
  }
  const until = Date.now() + ms;
  let said = Date.now();
  for (;;) {
    const at = await completedTick(admin, n);
    if (at >= tick) return;
    if (Date.now() >= until) {
      throw new SkytoolsError(`${n.name} did not reach tick ${String(tick)} within ${String(ms / 1000)}s (it is at ${String(at)}; is its worker running?); run the same takeover again to go on`);
    }
    if (Date.now() - said >= 2000) {
      steps.note(`waiting for ${n.name} to apply tick ${String(tick)} (at ${String(at)})`);
      said = Date.now();
    }
    await sleep(50);
  }
}

async function allTablesOk(admin: NodeAdmin, n: Node): Promise<void> {
  const busy = (await londisteSql.getTableList(n.db, admin.queue)).filter((t) => t.local && t.merge_state !== 'ok').map((t) => `${t.table_name} (${t.merge_state ?? 'waiting for copy'})`);
  if (busy.length > 0) throw new TakeoverRefused(`takeover: ${n.name} is still copying ${busy.join(', ')}: wait until the copy is done (wait-sync) and retry; nothing was changed`);
}

export async function takeover(admin: NodeAdmin, oldName: string, o: TakeoverOptions): Promise<void> {
  const local = await admin.localNodeInfo();
  const newName = local.node_name ?? '';
  if (oldName === newName) throw new TakeoverRefused(`takeover: ${oldName} is this node; run takeover from the node that takes over`);
  const oldMember = (await admin.members()).find((m) => m.name === oldName);
  if (oldMember === undefined) throw new TakeoverRefused(`takeover: unknown node ${oldName} (see members)`);
  if (o.deadRoot && o.deadBranch) throw new TakeoverRefused('takeover: give --dead-root or --dead-branch, not both');
  const nw = await loadNode(admin, newName);

  if (o.deadRoot || o.deadBranch) {
    if (!oldMember.dead && (await reachable(admin, oldName))) {
      throw new TakeoverRefused(`takeover: ${oldName} answers at its location; a failover would lose what is written there: use takeover without --dead-root/--dead-branch for a switchover (or --dead=${oldName} if it must not be contacted)`);
    }
    if (o.deadRoot) return failoverRoot(admin, nw, oldName, o);
    return replaceDeadBranch(admin, nw, oldName, o);
  }
  if (oldMember.dead || !(await reachable(admin, oldName))) {
    throw new TakeoverRefused(`takeover: ${oldName} does not answer (or is tagged dead): use --dead-root or --dead-branch for a failover`);
  }
  const old = await loadNode(admin, oldName);
  // NEW already the root with OLD a branch under it: the tail of an interrupted switchover when one of
  // the two workers is still paused by it; otherwise an ordinary branch takeover by the root
  const unfinished = nw.info.node_type === 'root' && old.info.provider_node === newName && old.info.node_type === 'branch' && (old.info.worker_paused === true || nw.info.worker_paused === true);
  if (old.info.node_type === 'root' || unfinished) return switchoverRoot(admin, nw, old, o);
  return takeoverBranch(admin, nw, old, o);
}

async function switchoverRoot(admin: NodeAdmin, nw: Node, old: Node, o: TakeoverOptions): Promise<void> {
  const oldType = old.info.node_type;
  const newType = nw.info.node_type;
  let lastTick: string | null = null;
  let windowStart: number | undefined;

  if (newType === 'leaf') throw new TakeoverRefused(`takeover: ${nw.name} is a leaf; only a branch can become the root (create it with create-branch)`);
  if (oldType === 'root' && newType === 'branch') {
    if (nw.info.provider_node !== old.name) {
      throw new TakeoverRefused(`takeover: ${nw.name} reads from ${nw.info.provider_node ?? '?'}, not from the root ${old.name}: move it under ${old.name} first (change-provider --provider=${old.name})`);
    }
    if (!(await pgq.insertsDisabled(old.db, admin.queue))) {
      // a fresh start: the checks come before anything is changed
      await allTablesOk(admin, nw);
      const at = await completedTick(admin, nw);
      // how long the oldest tick NEW has not applied has waited (an idle queue ticks rarely: NEW at the newest tick is not behind)
      const age = at < 0n ? null : await pgq.pendingTickAge(old.db, admin.queue, String(at));
      if (age === null || age > o.maxLagSeconds) {
        throw new TakeoverRefused(`takeover: ${nw.name} is ${age === null ? 'far' : `${age.toFixed(1)}s`} behind ${old.name} (limit --max-lag=${String(o.maxLagSeconds)}s): let it catch up (wait-root) and retry; nothing was changed`);
      }
    }
  } else if (!(newType === 'root' && (oldType === 'root' || old.info.provider_node === nw.name))) {
    throw new TakeoverRefused(`takeover: cannot switch from ${old.name} (${oldType ?? '?'}) to ${nw.name} (${newType ?? '?'}): ${nw.name} must be a branch reading from the root ${old.name}`);
  }

  const steps = new StepLog(admin.log, 9);
  if (newType === 'branch') {
    steps.step(`pausing the worker of ${old.name}`);
    await pauseOrFail(admin, old.db, old.name, old.worker, o.waitMs);
    // what NEW has to apply once writes are refused is what keeps them refused: shrink it first
    const now = await pgq.tickNow(old.db, admin.queue);
    steps.step(`letting ${nw.name} catch up to tick ${now ?? '?'} while ${old.name} still takes writes`);
    if (now !== null && !(await pgq.insertsDisabled(old.db, admin.queue))) await waitForTick(admin, nw, BigInt(now), o.catchUpMs, steps);
    steps.step(`refusing new writes on ${old.name}: captured writes there fail from now on`);
    await pgqNode.demoteRoot(old.db, quietLogger(admin.log), admin.queue, 1, nw.name);
    windowStart = Date.now();
    steps.step(`closing ${old.name}'s queue with a last tick`);
    lastTick = await pgqNode.demoteRoot(old.db, quietLogger(admin.log), admin.queue, 2, nw.name);
    if (lastTick === null) throw new SkytoolsError(`${old.name} returned no last tick`);
    steps.step(`waiting for ${nw.name} to apply everything up to tick ${lastTick}`);
    await waitForTick(admin, nw, BigInt(lastTick), o.catchUpMs, steps);
    steps.step(`promoting ${nw.name} to root`);
    await pauseOrFail(admin, nw.db, nw.name, nw.worker, o.waitMs, `the takeover stopped at step 6/9 with writes on ${old.name} refused: run the same takeover again to go on`);
    await pgqNode.promoteBranch(nw.db, quietLogger(admin.log), admin.queue);
    steps.note(`${nw.name} is the root: point the application at ${nw.name} now`);
    admin.refresh();
  } else {
    steps.skip(6, `done by an earlier run: ${nw.name} is the root already`);
  }

  steps.step(`subscribing ${old.name} to ${nw.name}`);
  const oldNow = await pgqNode.getNodeInfo(old.db, admin.queue);
  if (oldNow?.node_type === 'root') {
    // not demoted yet: its last tick is where it stands
    lastTick ??= await pgq.lastTickId(old.db, admin.queue);
    if (lastTick === null) throw new SkytoolsError(`${old.name} has no tick`);
    await pgqNode.registerLocation(nw.db, quietLogger(admin.log), admin.queue, old.name, (await admin.member(old.name)).location, false);
    await subscribeAt(admin, nw.db, old.name, old.worker, lastTick);
    if ((await pgqNode.subscriberNames(old.db, admin.queue)).includes(nw.name)) await pgqNode.unregisterSubscriber(old.db, quietLogger(admin.log), admin.queue, nw.name);
    steps.step(`turning ${old.name} into a branch of ${nw.name}`);
    await pgqNode.demoteRoot(old.db, quietLogger(admin.log), admin.queue, 3, nw.name);
  } else {
    if (!(await pgqNode.subscriberNames(nw.db, admin.queue)).includes(old.name)) {
      await pauseOrFail(admin, old.db, old.name, old.worker, o.waitMs, 'run the same takeover again to go on');
      const at = await completedTick(admin, old);
      await subscribeAt(admin, nw.db, old.name, old.worker, String(at));
    }
    if ((await pgqNode.subscriberNames(old.db, admin.queue)).includes(nw.name)) await pgqNode.unregisterSubscriber(old.db, quietLogger(admin.log), admin.queue, nw.name);
    steps.step(`${old.name} is a branch of ${nw.name} already`);
  }
  await resumeWorker(admin, nw.db, nw.name, nw.worker);
  await resumeWorker(admin, old.db, old.name, old.worker);
  admin.refresh();

  const moved = await moveSubscribers(admin, old.name, nw.name, [nw.name], o, steps);
  const window = windowStart === undefined ? '' : `; writes were refused for ${((Date.now() - windowStart) / 1000).toFixed(1)}s`;
  admin.log.info(`takeover done in ${steps.elapsedSeconds()}s: ${nw.name} is the root; ${old.name} is a branch under it${moved}${window}`);
}

/**
 * Move the live subscribers of `from` to `to`. A subscriber that has applied more than `to` has is
 * waited for only when `to` is a branch (its tick ids are its root's); a root's new ticks are not
 * the ones the subscriber stands on, so there it is left where it is, with a warning.
 */
async function moveSubscribers(admin: NodeAdmin, from: string, to: string, except: readonly string[], o: TakeoverOptions, steps: StepLog, limit?: bigint): Promise<string> {
  const subs = await subscribersOf(admin, from, except);
  steps.step(subs.length === 0 ? `no other subscribers of ${from} to move` : `moving ${subs.map((s) => s.name).join(', ')} from ${from} to ${to}`);
  const toIsRoot = (await loadNode(admin, to)).info.node_type === 'root';
  const moved: string[] = [];
  const left: string[] = [];
  for (const s of subs) {
    const at = await completedTick(admin, s);
    if (limit !== undefined && at > limit) {
      admin.log.warning(`${s.name} has applied events up to tick ${String(at)}, beyond where ${to} became the root (${String(limit)}); it cannot follow ${to} without diverging: re-create it under ${to}, or resync its tables after change-provider --node=${s.name} --provider=${to}`);
      continue;
    }
    try {
      await switchProvider(admin, s.name, to, { waitMs: o.waitMs, prefix: `  ${s.name}: `, ...(toIsRoot ? {} : { catchUpMs: o.catchUpMs }) });
      moved.push(s.name);
    } catch (err) {
      // one node that cannot move must not keep the others (and every rerun) from moving
      if (!(err instanceof UsageError)) throw err;
      admin.log.warning(`${s.name} was not moved to ${to}: ${describeError(err)}`);
      left.push(s.name);
    }
  }
  return (moved.length === 0 ? '' : `; ${moved.join(', ')} moved to ${to}`) + (left.length === 0 ? '' : `; NOT moved (see the warnings): ${left.join(', ')}`);
}

async function failoverRoot(admin: NodeAdmin, nw: Node, oldName: string, o: TakeoverOptions): Promise<void> {
  const steps = new StepLog(admin.log, 7);
  steps.step(`tagging ${oldName} dead on every reachable node`);
  await tagDeadEverywhere(admin, oldName);

  if (nw.info.node_type === 'leaf') throw new TakeoverRefused(`takeover: ${nw.name} is a leaf; only a branch can become the root`);
  let promoted = nw.info.node_type === 'root';
  steps.step(promoted ? `${nw.name} is the root already` : `finding the most advanced node among ${oldName}'s subscribers`);
  if (!promoted) {
    const prov = nw.info.provider_node;
    // an earlier run may have moved NEW under a more advanced sibling to catch up: that is fine too
    const viaSibling = prov !== null && prov !== oldName && (await reachable(admin, prov)) && (await pgqNode.getNodeInfo(await admin.nodeDatabase(prov), admin.queue))?.provider_node === oldName;
    if (prov !== oldName && !viaSibling) throw new TakeoverRefused(`takeover: ${nw.name} does not read from ${oldName}; run the failover on one of its subscribers`);
    const survivors = await subscribersOf(admin, oldName, [nw.name]);
    let best: Node | undefined;
    let bestTick = await completedTick(admin, nw);
    for (const s of survivors) {
      const t = await completedTick(admin, s);
      if (t <= bestTick) continue;
      if (s.info.node_type === 'leaf') {
        admin.log.warning(`${s.name} (a leaf) applied events up to tick ${String(t)}, beyond ${nw.name}; they never reach the new root: compare ${s.name} after the failover`);
        continue;
      }
      best = s;
      bestTick = t;
    }
    if (best !== undefined) {
      steps.note(`${best.name} is ahead (tick ${String(bestTick)}): ${nw.name} catches up from it first`);
      await switchProvider(admin, nw.name, best.name, { waitMs: o.waitMs, prefix: `  ${nw.name}: ` });
      await waitForTick(admin, nw, bestTick, o.catchUpMs, steps);
    }
  }

  steps.step(promoted ? 'promoted before' : `promoting ${nw.name} to root`);
  const info = await pgqNode.getNodeInfo(nw.db, admin.queue);
  const formerProvider = info?.provider_node ?? null;
  if (!promoted) {
    if (formerProvider === oldName) {
      // its provider is dead: it applies nothing, and its worker may sit in a long retry back-off
      await pgqNode.setConsumerPaused(nw.db, quietLogger(admin.log), admin.queue, nw.worker, true);
    } else {
      await pauseOrFail(admin, nw.db, nw.name, nw.worker, o.waitMs, 'run the same takeover again to go on');
    }
    await pgqNode.promoteBranch(nw.db, quietLogger(admin.log), admin.queue);
    promoted = true;
    admin.refresh();
  }

  steps.step(`keeping ${oldName}'s position on ${nw.name} for a later resurrect`);
  const grave = gravestoneName(oldName);
  if ((await pgqNode.consumerLastTick(nw.db, admin.queue, grave)) === undefined) {
    const at = await completedTick(admin, nw);
    await pgqNode.registerSubscriber(nw.db, quietLogger(admin.log), admin.queue, oldName, grave, String(at));
  }

  steps.step(`resuming ${nw.name}`);
  if (formerProvider !== null && formerProvider !== oldName && formerProvider !== nw.name && (await reachable(admin, formerProvider))) {
    const pdb = await admin.nodeDatabase(formerProvider);
    if ((await pgqNode.subscriberNames(pdb, admin.queue)).includes(nw.name)) await pgqNode.unregisterSubscriber(pdb, quietLogger(admin.log), admin.queue, nw.name);
  }
  await resumeWorker(admin, nw.db, nw.name, nw.worker);

  const moved = await moveSubscribers(admin, oldName, nw.name, [nw.name], o, steps, BigInt((await pgqNode.consumerLastTick(nw.db, admin.queue, grave)) ?? '0'));
  steps.step('done');
  admin.log.info(`failover done in ${steps.elapsedSeconds()}s: ${nw.name} is the root; ${oldName} is tagged dead${moved}; events ${oldName} captured after tick ${(await pgqNode.consumerLastTick(nw.db, admin.queue, grave)) ?? '?'} never reached ${nw.name}`);
}

async function replaceDeadBranch(admin: NodeAdmin, nw: Node, oldName: string, o: TakeoverOptions): Promise<void> {
  if (nw.info.node_type === 'leaf') throw new TakeoverRefused(`takeover: ${nw.name} is a leaf and cannot take subscribers`);
  const steps = new StepLog(admin.log, 3);
  const upstream = (await providersOf(admin, oldName))[0];
  steps.step(`tagging ${oldName} dead on every reachable node`);
  await tagDeadEverywhere(admin, oldName);
  steps.step(nw.info.provider_node === oldName ? `moving ${nw.name} to ${upstream ?? '?'}` : `${nw.name} does not read from ${oldName}`);
  if (nw.info.provider_node === oldName) {
    if (upstream === undefined) throw new TakeoverRefused(`takeover: cannot find the provider of ${oldName} to move ${nw.name} to; change-provider ${nw.name} by hand`);
    await switchProvider(admin, nw.name, upstream, { waitMs: o.waitMs, prefix: `  ${nw.name}: ` });
  }
  const moved = await moveSubscribers(admin, oldName, nw.name, [nw.name], o, steps);
  admin.log.info(`takeover done in ${steps.elapsedSeconds()}s: ${oldName} is tagged dead${moved || `; it had no other subscribers`}`);
}

async function takeoverBranch(admin: NodeAdmin, nw: Node, old: Node, o: TakeoverOptions): Promise<void> {
  if (nw.info.node_type === 'leaf') throw new TakeoverRefused(`takeover: ${nw.name} is a leaf; it cannot take the place of ${old.name}, which has subscribers to serve`);
  const related = nw.info.provider_node === old.name || old.info.provider_node === nw.name || (await dependsOn(admin, nw.name, old.name)) || nw.info.provider_node === old.info.provider_node;
  if (!related) throw new TakeoverRefused(`takeover: ${old.name} is neither the provider nor a subscriber nor a sibling of ${nw.name}; nothing was changed`);
  await allTablesOk(admin, nw);
  const steps = new StepLog(admin.log, 3);
  steps.step(o.all ? `moving the subscribers of ${old.name} to ${nw.name}` : `subscribers of ${old.name} stay (use --all to move them)`);
  let moved = '';
  if (o.all) moved = await moveSubscribers(admin, old.name, nw.name, [nw.name], o, new StepLog(admin.log, 1, '  '));
  const pnode = old.info.provider_node;
  steps.step(nw.info.provider_node === old.name && pnode !== null ? `moving ${nw.name} to ${pnode}` : `${nw.name} keeps its provider`);
  if (nw.info.provider_node === old.name && pnode !== null) await switchProvider(admin, nw.name, pnode, { waitMs: o.waitMs, prefix: `  ${nw.name}: `, catchUpMs: o.catchUpMs });
  steps.step(`moving ${old.name} under ${nw.name}`);
  try {
    await switchProvider(admin, old.name, nw.name, { waitMs: o.waitMs, prefix: `  ${old.name}: `, catchUpMs: o.catchUpMs });
  } catch (err) {
    throw new SkytoolsError(`takeover: moving ${old.name} under ${nw.name} failed: ${describeError(err)}; run the same takeover again to go on`, { cause: err });
  }
  const now = await pgqNode.getNodeInfo(nw.db, admin.queue);
  const where = now?.node_type === 'root' ? 'is the root' : `reads from ${now?.provider_node ?? '?'}`;
  admin.log.info(`takeover done in ${steps.elapsedSeconds()}s: ${nw.name} ${where}; ${old.name} is under ${nw.name}${moved}`);
}
