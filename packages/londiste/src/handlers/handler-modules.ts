/**
 * Third-party handlers: JavaScript modules named by a job's `handler_modules` (paths relative to
 * the job file), each exporting `handlers`, an array of Handler objects (docs/handlers.md). They
 * are loaded before the command or the worker runs, so add-table validates against them and the
 * worker applies with them. A module that cannot be loaded, or exports something else, is an
 * error naming the module: a table whose handler is missing must never be replicated plainly.
 */
import { isAbsolute, join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SkytoolsError } from '@skytools/core';
import type { Handler } from './handler.js';
import { registerHandler } from './handler-registry.js';

/** Does `x` look like a Handler (the fields the worker uses, of the right kinds)? */
function isHandler(x: unknown): x is Handler {
  if (typeof x !== 'object' || x === null) return false;
  const h = x as Record<string, unknown>;
  const copyOk = h['copy'] === 'full' || h['copy'] === 'none' || typeof h['copy'] === 'function';
  return typeof h['name'] === 'string' && typeof h['describe'] === 'string' && typeof h['args'] === 'object' && h['args'] !== null &&
    typeof h['needsTable'] === 'boolean' && copyOk && typeof h['apply'] === 'function';
}

/** Load the job's handler modules (`jobFile` anchors relative paths). */
export async function loadHandlerModules(modules: readonly string[], jobFile: string): Promise<void> {
  for (const m of modules) {
    const path = isAbsolute(m) ? m : join(dirname(jobFile), m);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (err) {
      throw new SkytoolsError(
        `handler_modules: cannot load ${m} (${(err as Error).message}); give the path of a JavaScript module exporting handlers (upstream's Python handler modules cannot run here)`,
        { cause: err },
      );
    }
    const list = mod['handlers'];
    if (!Array.isArray(list) || list.length === 0) throw new SkytoolsError(`handler_modules: ${m} exports no handlers (an array of handler objects named handlers)`);
    for (const h of list) {
      if (!isHandler(h)) throw new SkytoolsError(`handler_modules: ${m} exports a handler without name, describe, args, needsTable, copy or apply (docs/handlers.md)`);
      registerHandler(h, m);
    }
  }
}
