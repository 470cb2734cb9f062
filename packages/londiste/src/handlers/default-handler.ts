/**
 * The default apply (`londiste`, also when no handler is named) and upstream's `bulk`, which
 * loads a batch set-wise as the default here does anyway: both apply each table's events with set
 * statements over the batch stage. `ignore_truncate=1` leaves TRUNCATE events of the table out.
 */
import type { Handler, HandlerArg } from './handler.js';

const IGNORE_TRUNCATE: HandlerArg = { describe: 'leave TRUNCATE events of the table out (1), or apply them (0, the default)', values: ['0', '1'] };

export const defaultHandler: Handler = {
  name: 'londiste',
  describe: 'Default: set-based apply of the table\'s events (net effect per key, a few statements per batch).',
  args: { ignore_truncate: IGNORE_TRUNCATE },
  needsTable: true,
  copy: 'full',
  apply: () => ({ kind: 'rows' }),
};

export const bulkHandler: Handler = {
  ...defaultHandler,
  name: 'bulk',
  describe: 'Upstream\'s bulk loader: here the same set-based apply as the default (every method gives the same rows).',
  args: {
    method: { describe: 'upstream\'s load method (0 correct, 1 delete, 2 merged): all apply the same net effect here', values: ['0', '1', '2'] },
    ignore_truncate: IGNORE_TRUNCATE,
  },
};
