/**
 * Turning command-line table/sequence arguments into fully qualified names: `public.` is implied,
 * `*` and `?` glob over the candidates (in names without double quotes), quoted identifiers name
 * what no plain argument can (`"a b"."t.x"`), `--all` takes every candidate. Candidates are the objects
 * not yet added (add-*) or already added (remove-*, resync) on the local node.
 */
import type pg from 'pg';
import { londisteSql, UsageError, type Logger } from '@skytools/core';

export type ObjKind = 'r' | 'S';

/** 'tbl' → 'public.tbl'; names are compared as londiste stores them (unquoted, as typed). */
export function fqName(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

/**
 * A table or sequence name from the command line as londiste stores it (`schema.name`, unquoted).
 * Without double quotes: as typed, `public.` implied (globs are the caller's). With them, SQL's
 * identifier syntax: `"a b"."T.x"`, `"we""ird"`; unquoted parts of such a name are taken as typed.
 * A schema containing a dot is refused: londiste splits stored names at their first dot.
 */
export function parseObjectArg(arg: string): string {
  if (!arg.includes('"')) return fqName(arg);
  const parts: string[] = [];
  let i = 0;
  while (i <= arg.length) {
    let part = '';
    if (arg[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= arg.length) throw new UsageError(`name ${arg}: a quoted identifier is not closed; write it as "schema"."name", with "" for a double quote inside`);
        if (arg[i] === '"') {
          if (arg[i + 1] !== '"') break;
          i += 1;
        }
        part += arg[i] ?? '';
        i += 1;
      }
      i += 1;
    } else {
      while (i < arg.length && arg[i] !== '.') {
        if (arg[i] === '"') throw new UsageError(`name ${arg}: a double quote inside an unquoted part; quote the whole part, with "" for a double quote inside`);
        part += arg[i] ?? '';
        i += 1;
      }
    }
    if (part === '') throw new UsageError(`name ${arg}: an empty part; write it as [schema.]name`);
    parts.push(part);
    if (i >= arg.length) break;
    if (arg[i] !== '.') throw new UsageError(`name ${arg}: expected a dot after ${JSON.stringify(part)}`);
    i += 1;
  }
  if (parts.length > 2) throw new UsageError(`name ${arg}: ${String(parts.length)} parts; a name is [schema.]name (quote a part that holds a dot)`);
  const [schema, name] = parts.length === 1 ? ['public', parts[0] ?? ''] : [parts[0] ?? '', parts[1] ?? ''];
  if (schema.includes('.')) {
    throw new UsageError(`name ${arg}: schema ${JSON.stringify(schema)} holds a dot, which londiste cannot store (names are kept as schema.name, split at the first dot); rename the schema`);
  }
  return `${schema}.${name}`;
}

function globToRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, (c) => `\\${c}`).replace(/\?/g, '.').replace(/\*/g, '.*');
  return new RegExp(`^${body}$`);
}

export interface ExpandOptions {
  all: boolean;
  force: boolean;
  /** Accept names in neither list without a warning: the caller creates them or skips them itself. */
  allowMissing?: boolean;
}

export async function expandObjectArgs(
  client: pg.ClientBase,
  log: Logger,
  queue: string,
  kind: ObjKind,
  existing: boolean,
  args: readonly string[],
  opts: ExpandOptions,
): Promise<string[]> {
  const added =
    kind === 'S'
      ? (await londisteSql.getSeqList(client, queue)).filter((r) => r.local).map((r) => r.seq_name)
      : (await londisteSql.getTableList(client, queue)).filter((r) => r.local).map((r) => r.table_name);
  const missing = (await londisteSql.localShowMissing(client, queue)).filter((r) => r.obj_kind === kind).map((r) => r.obj_name);
  const candidates = existing ? added : missing;
  const others = new Set(existing ? missing : added);

  if (args.length === 0) {
    if (opts.all) return candidates;
    throw new UsageError(`no ${kind === 'S' ? 'sequences' : 'tables'} given (name them, or use --all)`);
  }
  const result: string[] = [];
  const seen = new Set<string>();
  const problems: string[] = [];
  const what = kind === 'S' ? 'sequence' : 'table';
  for (const arg of args) {
    if (!arg.includes('"') && (arg.includes('*') || arg.includes('?'))) {
      const re = globToRegex(fqName(arg));
      for (const c of candidates) {
        if (re.test(c) && !seen.has(c)) {
          seen.add(c);
          result.push(c);
        }
      }
      continue;
    }
    const name = parseObjectArg(arg);
    if (seen.has(name)) continue;
    if (candidates.includes(name)) {
      seen.add(name);
      result.push(name);
    } else if (others.has(name)) {
      log.info(`${name} already processed`);
    } else if (opts.allowMissing === true) {
      seen.add(name);
      result.push(name);
    } else if (opts.force) {
      log.warning(`${name} not available, but --force is used`);
      seen.add(name);
      result.push(name);
    } else {
      // a quoted argument: say what it was read as
      problems.push(arg.includes('"') ? `${name} (read from ${arg})` : name);
    }
  }
  if (problems.length > 0) {
    const where = existing ? `not added on this node (see the "${kind === 'S' ? 'seqs' : 'tables'}" command)` : 'not found in the local database';
    throw new UsageError(`${what}${problems.length > 1 ? 's' : ''} ${problems.join(', ')} ${where}; check the name${problems.length > 1 ? 's' : ''} or use --force`);
  }
  if (result.length === 0) log.info('nothing to do');
  return result;
}
