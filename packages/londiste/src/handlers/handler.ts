/**
 * Table handlers (docs/handlers.md): per table, how its initial copy is filtered and how its
 * events are applied, chosen with `add-table --handler=NAME --handler-arg=KEY=VALUE`. The choice is
 * kept in the table's attributes in upstream Londiste's form, `handler=NAME(k=v&k2=v2)`, so either
 * tool reads what the other wrote. A handler is validated when it is given (unknown name or
 * argument: refused, nothing added) and again by the worker (a table whose handler it does not
 * know stops it, naming the table).
 */
import type pg from 'pg';
import { SkytoolsError, urlDecode, urlEncode } from '@skytools/core';

export interface HandlerArg {
  describe: string;
  /** The values allowed, when only some are. */
  values?: readonly string[];
  required?: boolean;
}

/** What a custom apply gets: the table's events of one range of the batch stage, in the batch's transaction. */
export interface HandlerApplyContext {
  client: pg.ClientBase;
  /** The table's name on the provider (the events' ev_extra1). */
  table: string;
  /** Its name on this node. */
  dest: string;
  /** The SQL condition selecting the range's data events of the table in the stage (`ld_batch`). */
  events: string;
  /** The batch's closing tick, and its time. */
  tick: string;
  tickTime: Date;
  /**
   * Apply the range's row events that satisfy `events` (a condition on the stage's row `e`, or
   * null: all) to table `dest` the way tables without a handler are (net effect per key, set
   * statements; the table's --where applies). With `rows` (a condition on each key's net row:
   * the table's columns, and `ld_image` / `ld_ev_time`, the last event's raw image as jsonb and
   * its time), the keys whose row does not satisfy it are deleted from `dest` instead and the
   * others upserted, as with --where. A handler routing rows to other tables uses it.
   */
  applyRows: (dest: string, events: string | null, rows?: string | null) => Promise<void>;
}

/** How a table's events are applied on this node. */
export type HandlerApply =
  /** set-based, as tables without a handler; `rowFilter` keeps only the rows matching it */
  | { kind: 'rows' }
  /** not at all: the table's events are left out (on a branch they still pass on downstream) */
  | { kind: 'ignore' }
  /** by the handler, with set statements over the stage */
  | { kind: 'custom'; run: (ctx: HandlerApplyContext) => Promise<void> };

export interface Handler {
  readonly name: string;
  /** One line for show-handlers, then the details. */
  readonly describe: string;
  readonly args: Readonly<Record<string, HandlerArg>>;
  /** Does the table have to exist on this node (a handler that passes events elsewhere does not)? */
  needsTable: boolean;
  /** Extra capture trigger arguments on the root (e.g. SKIP, tgflags), and londiste's flags. */
  triggerArgs?: (args: HandlerArgs) => string[];
  /** The initial copy: 'full', filtered by a condition, or none (the table is in sync at once). */
  copy: 'full' | 'none' | ((args: HandlerArgs) => string);
  /**
   * The initial copy empties the table's inheritance children too (a handler that files rows
   * into them: a copy again must not leave their rows beside the copied ones).
   */
  copyEmptiesChildren?: boolean;
  /** A condition on the row's columns: rows not matching are neither copied nor kept (like --where). */
  rowFilter?: (args: HandlerArgs) => string;
  apply: (args: HandlerArgs) => HandlerApply;
  /** What the handler needs on this node (a function, a queue), checked when it is given. */
  checkNode?: (args: HandlerArgs, client: pg.ClientBase) => Promise<void>;
}

export type HandlerArgs = Readonly<Record<string, string>>;

/** A table's handler as stored: its name and arguments. */
export interface HandlerChoice {
  name: string;
  args: Record<string, string>;
}

/** Upstream's handler string: `name` or `name(k=v&k2=v2)` (urlencoded arguments). */
export function formatHandler(choice: HandlerChoice): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(choice.name)) throw new SkytoolsError(`invalid handler name: ${choice.name}`);
  const keys = Object.keys(choice.args);
  return keys.length === 0 ? choice.name : `${choice.name}(${urlEncode(choice.args)})`;
}

export function parseHandler(text: string): HandlerChoice {
  const open = text.indexOf('(');
  if (open < 0) return { name: text, args: {} };
  if (!text.endsWith(')')) throw new SkytoolsError(`invalid handler format: ${text}`);
  const args: Record<string, string> = {};
  // upstream also accepts ',' between arguments
  for (const [k, v] of Object.entries(urlDecode(text.slice(open + 1, -1).replace(/,/g, '&')))) if (v !== null) args[k] = v;
  return { name: text.slice(0, open), args };
}

/** --handler-arg values (KEY=VALUE, each key once). */
export function parseHandlerArgs(list: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new SkytoolsError(`--handler-arg ${a}: give KEY=VALUE`);
    const key = a.slice(0, eq).trim();
    if (key in args) throw new SkytoolsError(`--handler-arg ${key} given twice`);
    args[key] = a.slice(eq + 1).trim();
  }
  return args;
}
