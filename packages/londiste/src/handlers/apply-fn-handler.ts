/**
 * `applyfn`: every event of the table is passed to a database function on this node, in order,
 * in the batch's transaction (the function decides what to do with it); the table itself is
 * copied as usual. Slower than the set-based default: one call per event.
 */
import type pg from 'pg';
import { SkytoolsError } from '@skytools/core';
import type { Handler, HandlerArgs } from './handler.js';
import { callPerEvent, functionArgTypes } from '../sql/handler-statements.js';

/** The function exists here, once, with the twelve arguments applyfn passes. */
async function callableHere(client: pg.ClientBase, fn: string): Promise<void> {
  const types = await functionArgTypes(client, fn);
  if (types.length !== 12) throw new SkytoolsError(`function ${fn} takes ${String(types.length)} arguments; applyfn calls it with 12 (conf, tick, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4)`);
}

function functionName(args: HandlerArgs): string {
  const fn = args['func_name'];
  if (fn === undefined || fn === '') throw new SkytoolsError('handler applyfn needs func_name=FUNCTION');
  // the name goes into SQL as written: a plain or schema-qualified, possibly quoted, name only
  if (!/^("([^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(\.("([^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*))?$/.test(fn)) {
    throw new SkytoolsError(`handler applyfn: func_name=${fn} is not a function name`);
  }
  return fn;
}

export const applyFnHandler: Handler = {
  name: 'applyfn',
  describe:
    'Call a database function for each event of the table, in order (one call per event: slower than the default).\n' +
    'Arguments: (func_conf, tick_id, ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4).',
  args: {
    func_name: { describe: 'the function on this node (may be schema-qualified)', required: true },
    func_conf: { describe: 'a text passed as its first argument' },
  },
  needsTable: true,
  copy: 'full',
  checkNode: async (args, client) => {
    await callableHere(client, functionName(args));
  },
  apply: (args) => {
    const fn = functionName(args);
    const conf = args['func_conf'] ?? '';
    return {
      kind: 'custom',
      run: async (ctx) => {
        await callPerEvent(ctx.client, fn, await functionArgTypes(ctx.client, fn), conf, ctx.tick, ctx.events);
      },
    };
  },
};
