/**
 * Tables that feed queues rather than tables. `qtable` on the root: the capture trigger queues
 * the row and skips the insert (BEFORE INSERT, SKIP), so the table stays empty and is in sync at
 * once everywhere. `qsplitter`: the table's events of each batch go into another PgQ queue on
 * this node (as they came: type, data, extra fields, time), with no table here.
 */
import { pgq, quoteLiteral, SkytoolsError } from '@skytools/core';
import type { Handler, HandlerApplyContext, HandlerArgs } from './handler.js';
import { stageIntoQueue } from '../sql/batch-stage-statements.js';

export const queueTableHandler: Handler = {
  name: 'qtable',
  describe: 'Queue table (root): rows inserted go to the queue only (BEFORE INSERT trigger with SKIP); nothing copied or applied (subscribers: vtable).',
  args: {},
  needsTable: true,
  triggerArgs: () => ['tgflags=BI', 'SKIP', 'expect_sync'],
  copy: 'none',
  apply: () => ({ kind: 'ignore' }),
};

function targetQueue(args: HandlerArgs): string {
  const q = args['queue'];
  if (q === undefined || q === '') throw new SkytoolsError('handler qsplitter needs queue=NAME (a PgQ queue on this node)');
  return q;
}

export const queueSplitterHandler: Handler = {
  name: 'qsplitter',
  describe: 'Send the table\'s events into another PgQ queue on this node (queue=NAME); no table here.',
  args: { queue: { describe: 'the PgQ queue on this node that receives the events', required: true } },
  needsTable: false,
  triggerArgs: () => ['virtual_table'],
  copy: 'none',
  checkNode: async (args, client) => {
    const queue = targetQueue(args);
    if (!(await pgq.queueExists(client, queue))) throw new SkytoolsError(`queue ${queue} does not exist on this node; create it first (SELECT pgq.create_queue(${quoteLiteral(queue)}))`);
  },
  apply: (args) => {
    const queue = targetQueue(args);
    return {
      kind: 'custom',
      run: async (ctx: HandlerApplyContext) => {
        await stageIntoQueue(ctx.client, queue, ctx.events);
      },
    };
  },
};
