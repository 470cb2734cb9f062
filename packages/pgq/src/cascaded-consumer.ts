/**
 * A consumer that follows a pgq_node cascade (upstream's CascadedConsumer): its position is kept
 * on a node of the cascade (the target, a branch or leaf), in pgq_node.local_state, in the same
 * transaction as what the handler writes there; it reads the queue of the provider that state
 * names. When the node itself is moved to another provider (change-provider, takeover), the
 * consumer follows it from the tick it completed, so it keeps working across a switchover or a
 * failover without a hand on it. On a node that is (or became) the root there is nothing to read:
 * the consumer waits, as upstream's does.
 */
import type pg from 'pg';
import { pgq, pgqNode, session, SkytoolsError, UsageError } from '@skytools/core';

type WorkerState = pgqNode.WorkerState;
import type { ConsumerOptions } from './batch-loop.js';
import { TargetBatchLoop } from './target-batch-loop.js';
import type { Batch } from './queue-event.js';

export interface CascadedConsumerOptions extends Omit<ConsumerOptions, 'db' | 'subconsumer' | 'deadSubconsumerMs'> {
  /** The cascade node that keeps this consumer's position (pgq_node installed, a node of `queue`); the handler writes there. */
  target: string;
  /** register(): read from this provider (connection string) instead of the node's own. */
  provider?: string;
  /**
   * Follow the node when it moves to another provider; false: stay with the consumer's provider.
   * Default true, false when `provider` is given (the consumer reads from a provider of its own).
   */
  followNode?: boolean;
}

export class CascadedConsumer extends TargetBatchLoop {
  private state: WorkerState | undefined;
  private idleReason = '';

  constructor(private readonly cascade: CascadedConsumerOptions) {
    super({ ...cascade, db: '' });
  }

  /**
   * Register on the provider (the `provider` option, else the node's own) at its newest tick, and
   * on the target node from that tick. False (nothing changed) when the node knows the consumer already.
   */
  override async register(): Promise<boolean> {
    const { queue, name } = this.options;
    return this.withConnection(this.cascade.target, 'target', async (target) => {
      const node = await pgqNode.getNodeInfo(target, queue);
      if (node?.node_type === null || node?.node_type === undefined) throw new UsageError(`the target has no node of queue ${queue}: a cascaded consumer keeps its position on a cascade node (londiste create-branch/create-leaf)`);
      if ((await pgqNode.getWorkerState(target, queue, name))?.ret_code === 100) return false;
      const location = this.cascade.provider ?? (node.node_type === 'root' ? null : node.provider_location);
      if (location === null || location === undefined) {
        throw new UsageError(`node ${node.node_name ?? '?'} is the root of ${queue}: a cascaded consumer reads a provider's queue; run it on a branch or leaf, or give provider`);
      }
      return this.withConnection(location, 'provider', async (provider) => {
        const pnode = (await pgqNode.getNodeInfo(provider, queue))?.node_name;
        if (pnode === null || pnode === undefined) throw new UsageError(`the provider has no node of queue ${queue}`);
        await pgq.registerConsumer(provider, queue, name);
        const tick = await pgqNode.consumerLastTick(provider, queue, name);
        if (tick === null || tick === undefined) throw new SkytoolsError(`consumer ${name} has no position on ${pnode} after registering`);
        await pgqNode.registerConsumer(target, this.log, queue, name, pnode, tick);
        this.log.info(`consumer ${name} registered on ${pnode} at tick ${tick}, its position kept on node ${node.node_name ?? '?'}`);
        return true;
      });
    });
  }

  /** Unregister from the provider and from the target node. */
  override async unregister(): Promise<void> {
    const { queue, name } = this.options;
    await this.withConnection(this.cascade.target, 'target', async (target) => {
      const st = await pgqNode.getWorkerState(target, queue, name);
      if (st?.ret_code === 100 && st.provider_location !== null) await this.withConnection(st.provider_location, 'provider', (provider) => pgq.unregisterConsumer(provider, queue, name));
      await pgqNode.unregisterConsumer(target, this.log, queue, name);
    });
  }

  /** The provider to read from this round; null on a root or paused consumer. */
  protected override async queueDb(): Promise<string | null> {
    try {
      return await this.providerForRound();
    } catch (err) {
      // the target connection may be broken (a restarted node): a fresh one next round
      await this.closeTarget();
      throw err;
    }
  }

  private async providerForRound(): Promise<string | null> {
    const { queue, name } = this.options;
    const target = await this.target();
    let st = await pgqNode.getWorkerState(target, queue, name);
    if (st === undefined || st.ret_code !== 100) {
      throw new UsageError(`consumer ${name} is not registered on the target's node of ${queue} (${st?.ret_note ?? 'no answer'}): register() it first`);
    }
    if (st.node_type === 'root') return this.idle(`node ${st.node_name ?? '?'} is the root of ${queue}: nothing to read (waiting)`);
    if (st.paused === true) return this.idle(`consumer ${name} is paused on node ${st.node_name ?? '?'}`);
    if ((this.cascade.followNode ?? this.cascade.provider === undefined) && st.node_provider !== null && st.node_provider_location !== null && st.node_provider !== st.provider_node) {
      await this.follow(target, st);
      st = await pgqNode.getWorkerState(target, queue, name);
    }
    this.idleReason = '';
    this.state = st;
    return st?.provider_location ?? null;
  }

  private idle(reason: string): null {
    if (reason !== this.idleReason) this.log.info(reason);
    this.idleReason = reason;
    return null;
  }

  /**
   * The node moved to another provider: register there at this consumer's completed tick, leave
   * the old provider (best effort: it may be gone), then point the node's record at the new one.
   * Each step can be repeated, so a crash in between is finished by the next round.
   */
  private async follow(target: pg.Client, st: WorkerState): Promise<void> {
    const { queue, name } = this.options;
    const to = st.node_provider ?? '';
    const node = st.node_name ?? '?';
    const tick = st.completed_tick;
    if (tick === null) throw new SkytoolsError(`consumer ${name} has no completed tick on node ${node}: cannot follow it to ${to}`);
    await this.withConnection(st.node_provider_location ?? '', 'provider', async (next) => {
      if (!(await pgq.tickExists(next, queue, tick))) {
        const oldest = await pgq.oldestTickId(next, queue);
        if (oldest !== null && BigInt(oldest) > BigInt(tick)) {
          throw new SkytoolsError(
            `node ${node} now reads from ${to}, which no longer has tick ${tick} of consumer ${name} (its oldest is ${oldest}): the consumer cannot follow without a gap; unregister() and register() it again to go on from ${to}'s newest tick`,
          );
        }
        throw new SkytoolsError(`node ${node} now reads from ${to}, which does not have tick ${tick} of consumer ${name} yet (it is behind): trying again`);
      }
      await pgq.registerConsumerAt(next, queue, name, tick);
    });
    if (st.provider_location !== null) {
      try {
        await this.withConnection(st.provider_location, 'old provider', (old) => pgq.unregisterConsumer(old, queue, name));
      } catch (err) {
        this.log.warning(`consumer ${name} stays registered on ${st.provider_node ?? '?'} (${err instanceof Error ? err.message : String(err)}): unregister it there when it is back (pgq unregister ${queue} ${name}), or it holds back that queue's rotation`);
      }
    }
    await pgqNode.changeConsumerProvider(target, this.log, queue, name, to);
    this.log.info(`consumer ${name} follows node ${node} from ${st.provider_node ?? '?'} to ${to}, from tick ${tick}`);
  }

  protected async apply(queue: pg.ClientBase, batch: Batch): Promise<void> {
    const { name } = this.options;
    const target = await this.target();
    const events = batch.events.filter((ev) => !(ev.type ?? '').startsWith('pgq.'));
    let done = false;
    try {
      await session.withTransaction(target, async () => {
        const completed = await pgqNode.lockConsumerTick(target, this.options.queue, name);
        if (completed === undefined) throw new UsageError(`consumer ${name} is no longer registered on node ${this.state?.node_name ?? '?'} of ${this.options.queue}: register() it again`);
        if (completed === batch.tickId) {
          done = true;
          return;
        }
        if (completed !== batch.prevTickId) {
          throw new SkytoolsError(`Lost position: batch ${batch.prevTickId}..${batch.tickId} of ${this.options.queue}, node ${this.state?.node_name ?? '?'} has ${completed ?? 'NULL'} for consumer ${name}`);
        }
        await this.options.handler({ ...batch, events }, target);
        await pgqNode.setConsumerCompleted(target, this.log, this.options.queue, name, batch.tickId);
        // on the provider before the target commits: a crash in between redelivers the batch
        // (the target rolled back), never loses a retry
        await session.withTransaction(queue, () => this.recordPutAside(queue, batch));
      });
    } catch (err) {
      await this.closeTarget();
      throw err;
    }
    if (done) this.log.info(`consumer ${name}: batch ${batch.id} (tick ${batch.tickId}) was applied on the node already; finishing it`);
    await this.finishBatch(queue, batch);
  }

  protected get targetLocation(): string {
    return this.cascade.target;
  }
}
