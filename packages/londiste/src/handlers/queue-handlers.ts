/**
 * Tables that feed queues rather than tables. `qtable` on the root: the capture trigger queues
 * the row and skips the insert (BEFORE INSERT, SKIP), so the table stays empty and is in sync at
 * once everywhere. `qsplitter`: the table's events of each batch go into another PgQ queue on
 * this node (as they came: type, data, extra fields, time), with no table here.
 */
import { pgq, quoteFqname, SkytoolsError } from '@skytools/core';
import type { Handler, HandlerApplyContext, HandlerArgs } from './handler.js';
import { BATCH_STAGE } from '../sql/batch-stage-statements.js';

export const queueTableHandler: Handler = {
  name: 'qtable',
  describe: 'Queue table (root): rows inserted go to the queue only (BEFORE INSERT trigger with SKIP); nothing copied or applied.',
  args: {},
  needsTable: false,
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
  apply: (args) => {
    const queue = targetQueue(args);
    return {
      kind: 'custom',
      run: async (ctx: HandlerApplyContext) => {
        const table = await pgq.currentEventTable(ctx.client, queue);
        await ctx.client.query(`INSERT INTO ${quoteFqname(table)} (ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
          SELECT coalesce(ev_time, now()), ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
            FROM ${BATCH_STAGE} WHERE ${ctx.events} ORDER BY ev_id`);
      },
    };
  },
};
