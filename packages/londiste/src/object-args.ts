/**
 * Turning command-line table/sequence arguments into fully qualified names: `public.` is implied,
 * `*` and `?` glob over the candidates, `--all` takes every candidate. Candidates are the objects
 * not yet added (add-*) or already added (remove-*, resync) on the local node.
 */
import type pg from 'pg';
import { londisteSql, UsageError, type Logger } from '@skytools/core';

export type ObjKind = 'r' | 'S';

/** 'tbl' → 'public.tbl'; names are compared as londiste stores them (unquoted, as typed). */
export function fqName(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
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
    if (arg.includes('*') || arg.includes('?')) {
      const re = globToRegex(fqName(arg));
      for (const c of candidates) {
        if (re.test(c) && !seen.has(c)) {
          seen.add(c);
          result.push(c);
        }
      }
      continue;
    }
    const name = fqName(arg);
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
      problems.push(name);
    }
  }
  if (problems.length > 0) {
    const where = existing ? `not added on this node (see the "${kind === 'S' ? 'seqs' : 'tables'}" command)` : 'not found in the local database';
    throw new UsageError(`${what}${problems.length > 1 ? 's' : ''} ${problems.join(', ')} ${where}; check the name${problems.length > 1 ? 's' : ''} or use --force`);
  }
  if (result.length === 0) log.info('nothing to do');
  return result;
}
