/**
 * `vtable` (and its old name `fake_local`): the table is local here without being here: no copy,
 * no table needed, its events not applied (a branch still passes them on with the whole batch).
 * `nop`: the table is copied, its events are not applied.
 */
import type { Handler } from './handler.js';

export const virtualTableHandler: Handler = {
  name: 'vtable',
  describe: 'Virtual table: registered here without a table; nothing copied, events not applied (a branch passes them on).',
  args: {},
  needsTable: false,
  triggerArgs: () => ['virtual_table'],
  copy: 'none',
  apply: () => ({ kind: 'ignore' }),
};

export const fakeLocalHandler: Handler = { ...virtualTableHandler, name: 'fake_local', describe: 'Old name of vtable.' };

export const nopHandler: Handler = {
  name: 'nop',
  describe: 'Copy the table, then leave its events out.',
  args: {},
  needsTable: true,
  copy: 'full',
  apply: () => ({ kind: 'ignore' }),
};
