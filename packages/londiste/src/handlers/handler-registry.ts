/**
 * The handlers this tool has (show-handlers), and the check every handler choice passes at
 * add-table / change-handler time and again in the worker: a known name, known arguments,
 * required ones given, values allowed, and whatever the handler itself checks.
 */
import { SkytoolsError } from '@skytools/core';
import type { Handler, HandlerChoice } from './handler.js';
import { bulkHandler, defaultHandler } from './default-handler.js';
import { partHandler, shardHandler } from './part-handler.js';
import { fakeLocalHandler, nopHandler, virtualTableHandler } from './virtual-table-handler.js';
import { queueSplitterHandler, queueTableHandler } from './queue-handlers.js';
import { applyFnHandler } from './apply-fn-handler.js';
import { dispatchHandler, dispatchVariants } from './dispatch-handler.js';

const BUILT_IN: readonly Handler[] = [
  defaultHandler,
  bulkHandler,
  partHandler,
  shardHandler,
  applyFnHandler,
  queueTableHandler,
  queueSplitterHandler,
  virtualTableHandler,
  fakeLocalHandler,
  nopHandler,
  dispatchHandler,
  ...dispatchVariants(),
];

/** The handlers by name: the built-in ones, then those of handler_modules (where each came from). */
const registry = new Map<string, { handler: Handler; source: string }>(BUILT_IN.map((h) => [h.name, { handler: h, source: 'built in' }]));

/** Every handler there is, built-in first. */
export function allHandlers(): Handler[] {
  return [...registry.values()].map((r) => r.handler);
}

/** A third-party handler (handler_modules); a name taken by another handler is refused. */
export function registerHandler(h: Handler, source: string): void {
  const known = registry.get(h.name);
  if (known !== undefined && known.handler !== h) throw new SkytoolsError(`handler ${h.name} from ${source}: the name is taken by the handler ${known.source === 'built in' ? 'built in' : `from ${known.source}`}`);
  registry.set(h.name, { handler: h, source });
}

/** Upstream handlers this tool does not have (yet): named so that the refusal says so. */
const NOT_HERE: Readonly<Record<string, string>> = {
  part_dispatch: 'upstream\'s older time partitioning handler: use dispatch (part_mode, period, part_field)',
  obfuscate: 'column obfuscation is not implemented yet',
  multimaster: 'conflict resolution between masters is not implemented yet',
  merge_on_time: 'conflict resolution between masters is not implemented yet',
};

/** The handler of that name; throws when there is none. */
export function findHandler(name: string): Handler {
  const h = registry.get(name)?.handler;
  if (h !== undefined) return h;
  const why = NOT_HERE[name];
  throw new SkytoolsError(
    why === undefined ? `unknown handler ${name}; see londiste JOB show-handlers for those there are` : `handler ${name}: ${why}; see londiste JOB show-handlers for those there are`,
  );
}

/** The handler of a choice, its arguments checked; throws what is wrong, naming how to fix it. */
export function checkHandler(choice: HandlerChoice): Handler {
  const h = findHandler(choice.name);
  for (const [k, v] of Object.entries(choice.args)) {
    const spec = h.args[k];
    if (spec === undefined) {
      const known = Object.keys(h.args);
      throw new SkytoolsError(`handler ${h.name} has no argument ${k}${known.length === 0 ? ' (it takes none)' : ` (it takes ${known.join(', ')})`}`);
    }
    if (spec.values !== undefined && !spec.values.includes(v)) throw new SkytoolsError(`handler ${h.name}: ${k}=${v} is not one of ${spec.values.join(', ')}`);
  }
  for (const [k, spec] of Object.entries(h.args)) {
    if (spec.required === true && !(k in choice.args) && !(k === 'hash_key' && 'key' in choice.args)) throw new SkytoolsError(`handler ${h.name} needs ${k}=...: ${spec.describe}`);
  }
  // the handler's own checks run where its conditions and apply are built
  if (typeof h.copy === 'function') h.copy(choice.args);
  h.rowFilter?.(choice.args);
  h.apply(choice.args);
  return h;
}

/** show-handlers: each handler with its description and arguments. */
export function describeHandlers(names: readonly string[]): string {
  const picked = names.length === 0 ? allHandlers() : names.map(findHandler);
  const lines: string[] = [];
  for (const h of picked) {
    const [first, ...rest] = h.describe.split('\n');
    lines.push(`${h.name} - ${first ?? ''}`);
    if (names.length === 0) continue;
    for (const r of rest) lines.push(`    ${r}`);
    for (const [k, a] of Object.entries(h.args)) lines.push(`    ${k}=${a.values?.join('|') ?? '...'}${a.required === true ? ' (required)' : ''}: ${a.describe}`);
  }
  return lines.join('\n');
}
