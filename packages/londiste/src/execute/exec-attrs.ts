/**
 * The meta-comment attributes of an `execute` file (upstream Londiste's format): lines at the
 * top of the file starting with `--*--`, before the first statement, such as
 *
 *   --*-- Local-Table: public.orders,
 *   --*--     public.order_lines
 *   --*-- Need-Function: public.f(2)
 *
 * say on which nodes the script applies: Local-* name objects replicated on the node (their
 * `@name@` in the script becomes the node's own name for them), Need-* objects that must exist
 * there. A node where every named object matches runs the script, one where none does skips it,
 * and a partial match is an error. They travel with the EXECUTE event, urlencoded, in ev_extra2.
 */
import { catalog, urlDecode, urlEncode, UsageError, quoteFqname } from '@skytools/core';
import type pg from 'pg';
import { fqName } from '../object-args.js';

const PREFIX = '--*--';

/** The keys in the order they are probed, and whether `@name@` in the script is renamed for them. */
const KEYS = [
  { name: 'Local-Table', rename: true },
  { name: 'Local-Sequence', rename: true },
  { name: 'Local-Destination', rename: true },
  { name: 'Need-Table', rename: false },
  { name: 'Need-Sequence', rename: false },
  { name: 'Need-Function', rename: false },
  { name: 'Need-Schema', rename: false },
  { name: 'Need-View', rename: false },
] as const;

type Key = Lowercase<(typeof KEYS)[number]['name']>;

const KNOWN = new Map<string, (typeof KEYS)[number]>(KEYS.map((k) => [k.name.toLowerCase(), k]));

/** What a node replicates: source table name → its local name, and its sequences. */
export interface LocalObjects {
  tables: ReadonlyMap<string, string>;
  seqs: ReadonlySet<string>;
}

export class ExecAttrs {
  private readonly values = new Map<Key, string[]>();

  private add(key: string, value: string, source: string): void {
    const k = key.trim().toLowerCase();
    if (!KNOWN.has(k)) throw new UsageError(`${source}: unknown attribute "${key.trim()}" (known: ${KEYS.map((x) => x.name).join(', ')})`);
    const v = value.trim();
    if (v === '') return;
    const list = this.values.get(k as Key) ?? [];
    list.push(v);
    this.values.set(k as Key, list);
  }

  get isEmpty(): boolean {
    return this.values.size === 0;
  }

  /** The attributes in the header of a script; `source` names the file in errors. */
  static fromScript(sql: string, source: string): ExecAttrs {
    const a = new ExecAttrs();
    let continuing: string | null = null;
    for (const raw of sql.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '') continue;
      if (!line.startsWith('--')) break;
      if (!line.startsWith(PREFIX)) continue;
      const body = line.slice(PREFIX.length).trim();
      if (body === '') continue;
      let key: string | null = continuing;
      let rest = body;
      if (key === null) {
        const colon = body.indexOf(':');
        if (colon < 0) continue;
        key = body.slice(0, colon);
        rest = body.slice(colon + 1);
      }
      for (const v of rest.split(',')) a.add(key, v, source);
      continuing = body.endsWith(',') ? key : null;
    }
    return a;
  }

  /** The attributes as an EXECUTE event carries them. */
  static fromEncoded(text: string | null, source: string): ExecAttrs {
    const a = new ExecAttrs();
    for (const [k, v] of Object.entries(urlDecode(text))) for (const x of (v ?? '').split(',')) a.add(k, x, source);
    return a;
  }

  /** As the file header says it, on one line: `Local-Table: a, b; Need-Schema: c`. */
  describe(): string {
    return KEYS.filter((k) => this.values.has(k.name.toLowerCase() as Key))
      .map((k) => `${k.name}: ${(this.values.get(k.name.toLowerCase() as Key) ?? []).join(', ')}`)
      .join('; ');
  }

  /** Urlencoded for the event (null when there are none). */
  encode(): string | null {
    if (this.isEmpty) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of this.values) out[k] = v.join(',');
    return urlEncode(out);
  }

  /** Does the script apply on this node? Throws when the node matches only some of the named objects. */
  async applies(client: pg.ClientBase, local: LocalObjects, source: string): Promise<boolean> {
    if (this.isEmpty) return true;
    const hit: string[] = [];
    const miss: string[] = [];
    for (const k of KEYS) {
      for (const v of this.values.get(k.name.toLowerCase() as Key) ?? []) {
        ((await matches(k.name, v, client, local)) ? hit : miss).push(`${k.name} ${v}`);
      }
    }
    if (miss.length === 0) return true;
    if (hit.length === 0) return false;
    throw new UsageError(`${source} matches this node only in part: present ${hit.join(', ')}; missing ${miss.join(', ')}`);
  }

  /** The script with each `@name@` of a Local-* attribute replaced by the node's quoted name for it. */
  localize(sql: string, local: LocalObjects): string {
    let out = sql;
    for (const k of KEYS) {
      if (!k.rename) continue;
      for (const v of this.values.get(k.name.toLowerCase() as Key) ?? []) {
        const fq = fqName(v);
        const localName = local.tables.get(fq) ?? (local.seqs.has(fq) ? fq : undefined);
        if (localName === undefined) continue;
        out = out.split(`@${v}@`).join(quoteFqname(localName));
      }
    }
    return out;
  }
}

async function matches(key: string, value: string, client: pg.ClientBase, local: LocalObjects): Promise<boolean> {
  const fq = fqName(value);
  switch (key) {
    case 'Local-Table':
      return local.tables.has(fq);
    case 'Local-Sequence':
      return local.seqs.has(fq);
    case 'Local-Destination': {
      const dest = local.tables.get(fq);
      return dest !== undefined && (await catalog.relationExists(client, dest, 'table'));
    }
    case 'Need-Table':
      return catalog.relationExists(client, fq, 'table');
    case 'Need-Sequence':
      return catalog.relationExists(client, fq, 'sequence');
    case 'Need-Schema':
      return catalog.schemaExists(client, value);
    case 'Need-View':
      return catalog.viewExists(client, fq);
    case 'Need-Function': {
      // name(N): N arguments
      const m = /^(.*?)\s*\(\s*(\d+)\s*\)$/.exec(value);
      return catalog.functionExists(client, fqName(m?.[1] ?? value), Number(m?.[2] ?? 0));
    }
    default:
      return false;
  }
}
