/**
 * `part` (also `shard`): this node keeps one shard of the table: the rows whose key hashes to
 * shard_nr of shard_count. The initial copy reads only those rows from the provider, and the
 * events are filtered on their row images as a --where condition is, so a row whose key column
 * moves it to another shard is deleted here. Nothing is needed on the root.
 */
import { quoteIdent, SkytoolsError } from '@skytools/core';
import type { Handler, HandlerArgs } from './handler.js';

function intArg(args: HandlerArgs, name: string): number {
  const text = args[name];
  if (text === undefined) throw new SkytoolsError(`handler part needs ${name}=N`);
  if (!/^\d+$/.test(text)) throw new SkytoolsError(`handler part: ${name}=${text} is not a whole number`);
  return Number(text);
}

/** The shard condition on the table's columns (hashtext of the key's text, its low 31 bits). */
export function shardCondition(args: HandlerArgs): string {
  const key = args['hash_key'] ?? args['key'];
  if (key === undefined || key === '') throw new SkytoolsError('handler part needs hash_key=COLUMN');
  const count = intArg(args, 'shard_count');
  const nr = intArg(args, 'shard_nr');
  if (count < 1) throw new SkytoolsError('handler part: shard_count must be at least 1');
  if (nr >= count) throw new SkytoolsError(`handler part: shard_nr ${String(nr)} is not below shard_count ${String(count)}`);
  return `(hashtext((${quoteIdent(key)})::text) & 2147483647) % ${String(count)} = ${String(nr)}`;
}

export const partHandler: Handler = {
  name: 'part',
  describe:
    'Keep one shard of the table: rows whose hash_key hashes to shard_nr of shard_count\n' +
    '(hashtext(key::text) & 2147483647) % shard_count = shard_nr; copy and events filtered alike.',
  args: {
    hash_key: { describe: 'the column whose value decides the shard (usually the primary key)', required: true },
    key: { describe: 'the same as hash_key (upstream\'s older name)' },
    shard_count: { describe: 'how many shards there are', required: true },
    shard_nr: { describe: 'the shard this node keeps, 0 .. shard_count - 1', required: true },
  },
  needsTable: true,
  copy: shardCondition,
  rowFilter: shardCondition,
  apply: () => ({ kind: 'rows' }),
};

export const shardHandler: Handler = { ...partHandler, name: 'shard' };
