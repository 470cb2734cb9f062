/**
 * Upstream Skytools configuration files (`.ini`), read as upstream reads them: Python's
 * ConfigParser syntax (`[section]`, `key = value` or `key: value`, `#`/`;` comment lines, indented
 * continuation lines, keys case-insensitive), a `[DEFAULT]` section seen by every section, and
 * the defaults Skytools adds (`job_name` = the file name without extension, `service_name`,
 * `host_name`, `config_dir`, `config_file`). Values interpolate `%(key)s` (`%%` is a percent
 * sign), or `${key}` / `${section:key}` when the section sets `config_format = 2`.
 */
import { hostname } from 'node:os';
import { basename, dirname, extname, resolve } from 'node:path';
import { UsageError } from './errors.js';

export interface IniDocument {
  file: string;
  /** Sections in file order, `DEFAULT` excluded; keys lower-cased, values raw. */
  sections: Map<string, Map<string, string>>;
  defaults: Map<string, string>;
}

const SECTION = /^\[([^\]]+)\]\s*$/;
const OPTION = /^([^:=\s][^:=]*?)\s*[:=]\s*(.*)$/;

/** Parse the text of an .ini file; `file` names it in messages. */
export function parseIni(text: string, file: string): IniDocument {
  const sections = new Map<string, Map<string, string>>();
  const defaults = new Map<string, string>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const where = `${file}:${i + 1}`;
    if (/^\s*$/.test(line)) {
      lastKey = undefined;
      continue;
    }
    if (/^\s*[#;]/.test(line)) continue;
    if (/^\s/.test(line)) {
      if (current === undefined || lastKey === undefined) throw new UsageError(`${where}: indented line continues no key: ${line.trim()}`);
      current.set(lastKey, `${current.get(lastKey) ?? ''}\n${line.trim()}`);
      continue;
    }
    const sec = SECTION.exec(line);
    if (sec?.[1] !== undefined) {
      const name = sec[1].trim();
      if (name === 'DEFAULT') current = defaults;
      else {
        if (sections.has(name)) throw new UsageError(`${where}: section [${name}] appears twice`);
        current = new Map();
        sections.set(name, current);
      }
      lastKey = undefined;
      continue;
    }
    const opt = OPTION.exec(line);
    if (opt?.[1] === undefined) throw new UsageError(`${where}: expected [section] or key = value, got: ${line.trim()}`);
    if (current === undefined) throw new UsageError(`${where}: key "${opt[1].trim()}" before any [section]`);
    lastKey = opt[1].trim().toLowerCase();
    if (current.has(lastKey) && current !== defaults) throw new UsageError(`${where}: key "${lastKey}" set twice in its section`);
    current.set(lastKey, (opt[2] ?? '').trim());
  }
  return { file, sections, defaults };
}

/** The defaults Skytools makes visible in every section of a job's file. */
function skytoolsDefaults(file: string, service: string): Map<string, string> {
  const abs = resolve(file);
  return new Map([
    ['job_name', basename(file, extname(file))],
    ['service_name', service],
    ['host_name', hostname()],
    ['config_dir', dirname(abs)],
    ['config_file', abs],
  ]);
}

const MAX_DEPTH = 10;

/**
 * The keys of the first of `services` the file has as a section (upstream's main section:
 * `londiste` or `londiste3` for a job, `pgqd` for the ticker), defaults applied and values
 * interpolated. Errors name the file, the section and the key.
 */
export function iniSection(doc: IniDocument, services: readonly string[]): { service: string; values: Record<string, string>; fromDefaults: Set<string> } {
  const service = services.find((s) => doc.sections.has(s));
  const own = service === undefined ? undefined : doc.sections.get(service);
  if (service === undefined || own === undefined) {
    const have = [...doc.sections.keys()].map((s) => `[${s}]`).join(', ') || 'none';
    throw new UsageError(`${doc.file}: no [${services.join('] or [')}] section (sections: ${have})`);
  }
  const merged = new Map([...skytoolsDefaults(doc.file, service), ...doc.defaults, ...own]);
  const extended = merged.get('config_format') === '2';
  if (!['1', '2', undefined].includes(merged.get('config_format'))) {
    throw new UsageError(`${doc.file}: [${service}] config_format must be 1 or 2 (got ${merged.get('config_format')})`);
  }
  const lookup = (key: string, section: string | undefined, seen: number): string => {
    const from = section === undefined ? merged : doc.sections.get(section);
    const raw = from?.get(key.toLowerCase()) ?? (section === undefined ? undefined : doc.defaults.get(key.toLowerCase()));
    if (raw === undefined) throw new UsageError(`${doc.file}: [${service}] refers to ${section === undefined ? '' : `${section}:`}${key}, which is not set`);
    return expand(raw, seen + 1);
  };
  const expand = (value: string, depth: number): string => {
    if (depth > MAX_DEPTH) throw new UsageError(`${doc.file}: [${service}] interpolation nests deeper than ${MAX_DEPTH} levels (a key refers to itself?)`);
    if (extended) {
      return value.replace(/\$(\$|\{([^}]*)\})/g, (_m, what: string, ref: string | undefined) => {
        if (what === '$') return '$';
        const parts = (ref ?? '').split(':');
        return parts.length === 2 ? lookup(parts[1] ?? '', parts[0], depth) : lookup(ref ?? '', undefined, depth);
      });
    }
    return value.replace(/%(%|\(([^)]*)\)s)/g, (_m, what: string, ref: string | undefined) => (what === '%' ? '%' : lookup(ref ?? '', undefined, depth)));
  };
  // Skytools' own defaults only feed interpolation: the file's keys are what it sets
  const values: Record<string, string> = {};
  for (const key of new Set([...doc.defaults.keys(), ...own.keys()])) if (key !== 'config_format') values[key] = expand(merged.get(key) ?? '', 0);
  const fromDefaults = new Set([...doc.defaults.keys()].filter((k) => !own.has(k)));
  return { service, values, fromDefaults };
}

/** Does this file name say upstream .ini format? */
export function isIniFile(file: string): boolean {
  return extname(file).toLowerCase() === '.ini';
}
