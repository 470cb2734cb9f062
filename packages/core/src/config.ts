/**
 * YAML configuration with declared keys. Each daemon declares its keys once (type, default,
 * description); the same declaration validates files, fills defaults and prints the sample config.
 * Unknown keys and bad values are errors naming the key and the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import YAML from 'yaml';
import { UsageError } from './errors.js';
import { iniSection, isIniFile, parseIni } from './ini-file.js';
import { parseDuration } from './duration.js';
import { maskConnstr, parseConnstr } from './connstr.js';

export type FieldType = 'string' | 'int' | 'bool' | 'duration' | 'strings' | 'connstr' | 'path' | 'loglevel' | 'choice';

interface FieldBase {
  describe: string;
  required?: boolean;
  /** Shown in the sample config instead of the default. */
  example?: string;
}
export interface StringField extends FieldBase { type: 'string' | 'connstr' | 'path'; default?: string }
export interface LogLevelField extends FieldBase { type: 'loglevel'; default?: 'debug' | 'info' | 'warning' | 'error' }
export interface IntField extends FieldBase { type: 'int'; default?: number; min?: number; max?: number }
export interface BoolField extends FieldBase { type: 'bool'; default?: boolean }
/** Durations are returned in milliseconds; defaults are written in the same units as files. */
export interface DurationField extends FieldBase { type: 'duration'; default?: number | string; minMs?: number }
export interface StringsField extends FieldBase { type: 'strings'; default?: string[] }
/** One word out of a fixed list (e.g. log_format: text or json). */
export interface ChoiceField extends FieldBase { type: 'choice'; choices: readonly string[]; default?: string }
export type FieldSpec = StringField | LogLevelField | IntField | BoolField | DurationField | StringsField | ChoiceField;
export type ConfigSpec = Record<string, FieldSpec>;

type BaseValue<F extends FieldSpec> = F extends IntField
  ? number
  : F extends BoolField
    ? boolean
    : F extends DurationField
      ? number
      : F extends StringsField
        ? string[]
        : F extends LogLevelField
          ? 'debug' | 'info' | 'warning' | 'error'
          : F extends ChoiceField
            ? F['choices'][number]
            : string;

type HasValue<F> = F extends { default: unknown } ? true : F extends { required: true } ? true : false;

export type ConfigOf<S extends ConfigSpec> = {
  -readonly [K in keyof S as HasValue<S[K]> extends true ? K : never]: BaseValue<S[K]>;
} & {
  -readonly [K in keyof S as HasValue<S[K]> extends true ? never : K]?: BaseValue<S[K]>;
};

const LOG_LEVELS = ['debug', 'info', 'warning', 'error'];

function bad(source: string, key: string, what: string): UsageError {
  return new UsageError(`${source}: key "${key}" ${what}`);
}

function coerce(key: string, spec: FieldSpec, value: unknown, source: string, baseDir: string): unknown {
  switch (spec.type) {
    case 'string':
    case 'connstr':
    case 'path': {
      if (typeof value !== 'string' && typeof value !== 'number') throw bad(source, key, 'must be a string');
      const s = String(value);
      if (spec.type === 'connstr') {
        try {
          parseConnstr(s);
        } catch (err) {
          throw bad(source, key, `is not a valid connection string: ${(err as Error).message}`);
        }
      }
      if (spec.type === 'path') {
        const home = s === '~' || s.startsWith('~/') ? homedir() + s.slice(1) : s;
        return isAbsolute(home) ? home : resolve(baseDir, home);
      }
      return s;
    }
    case 'loglevel':
      if (typeof value !== 'string' || !LOG_LEVELS.includes(value)) throw bad(source, key, `must be one of ${LOG_LEVELS.join(', ')}`);
      return value;
    case 'choice':
      if (typeof value !== 'string' || !spec.choices.includes(value)) throw bad(source, key, `must be one of ${spec.choices.join(', ')} (got ${JSON.stringify(value)})`);
      return value;
    case 'int': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw bad(source, key, `must be an integer (got ${JSON.stringify(value)})`);
      if (spec.min !== undefined && n < spec.min) throw bad(source, key, `must be at least ${spec.min} (got ${n})`);
      if (spec.max !== undefined && n > spec.max) throw bad(source, key, `must be at most ${spec.max} (got ${n})`);
      return n;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === '1' || value === 'true' || value === 'on' || value === 'yes') return true;
      if (value === 0 || value === '0' || value === 'false' || value === 'off' || value === 'no') return false;
      throw bad(source, key, `must be true or false (got ${JSON.stringify(value)})`);
    case 'duration': {
      const ms = parseDuration(value);
      if (ms === undefined) throw bad(source, key, `must be a duration such as 30, "500ms", "2s", "1h" (got ${JSON.stringify(value)})`);
      if (spec.minMs !== undefined && ms < spec.minMs) throw bad(source, key, `must be at least ${spec.minMs}ms (got ${JSON.stringify(value)})`);
      return ms;
    }
    case 'strings': {
      const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : value;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' || typeof x === 'number')) {
        throw bad(source, key, 'must be a list of strings');
      }
      return list.map(String);
    }
  }
}

/**
 * Validate a parsed document against a spec. `source` names the file in messages;
 * relative `path` values resolve against `baseDir` (the file's directory).
 */
export function validateConfig<S extends ConfigSpec>(raw: unknown, spec: S, source: string, baseDir = process.cwd()): ConfigOf<S> {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${source}: expected a mapping of key: value at the top level`);
  const doc = raw as Record<string, unknown>;
  const known = Object.keys(spec);
  for (const key of Object.keys(doc)) {
    if (!(key in spec)) {
      throw new UsageError(`${source}: unknown key "${key}" (known keys: ${known.join(', ')})`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    const value = doc[key];
    if (value === undefined || value === null) {
      if (field.default !== undefined) out[key] = coerce(key, field, field.default, source, baseDir);
      else if (field.required === true) throw bad(source, key, 'is required');
      continue;
    }
    out[key] = coerce(key, field, value, source, baseDir);
  }
  return out as ConfigOf<S>;
}

/**
 * A key upstream's file of the same program may hold that has no key here: `none` when it only
 * tunes something this implementation does otherwise (logged once and dropped), `refused` when
 * dropping it would change what gets replicated (an error naming the key).
 */
export interface UpstreamKey {
  effect: 'none' | 'refused';
  why: string;
}

/** How this program reads upstream's `.ini` files: its main section names and upstream's other keys. */
export interface IniFormat {
  /** Section names tried in order (upstream's service name: `londiste`, `londiste3`, `pgqd`). */
  services: readonly string[];
  upstreamKeys: Readonly<Record<string, UpstreamKey>>;
}

/** Receives one line per upstream key dropped from an .ini file. */
export type ConfigWarn = (message: string) => void;

/** Each of `keys` with the same effect and reason (for an IniFormat's upstreamKeys). */
export function upstreamKeysWith(effect: UpstreamKey['effect'], why: string, ...keys: string[]): Record<string, UpstreamKey> {
  return Object.fromEntries(keys.map((k) => [k, { effect, why }]));
}

/**
 * The keys of an upstream .ini file as a document for validateConfig: an upstream-only key that
 * changes nothing here is left out with a warning saying what does its job here; one that would
 * change what gets replicated is an error. Unknown keys stay for validateConfig to name.
 */
function iniDocument(file: string, text: string, format: IniFormat, warn: ConfigWarn, spec: ConfigSpec): { service: string; doc: Record<string, string> } {
  const { service, values, fromDefaults } = iniSection(parseIni(text, file), format.services);
  const doc: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const upstream = format.upstreamKeys[key];
    // a key both have but meaning something else upstream (e.g. handler_modules: Python modules)
    if (upstream?.effect === 'refused' && key in spec) throw new UsageError(`${file}: [${service}] ${key} is not supported: ${upstream.why}; remove it from the file`);
    if (key in spec) doc[key] = value;
    // [DEFAULT] keys nobody reads are there for %(key)s: as upstream, they are no error
    else if (fromDefaults.has(key) && upstream === undefined) continue;
    else if (upstream?.effect === 'none') warn(`${file}: [${service}] ${key} has no effect here: ${upstream.why}; remove it from the file to silence this`);
    else if (upstream?.effect === 'refused') throw new UsageError(`${file}: [${service}] ${key} is not supported: ${upstream.why}; remove it from the file`);
    else doc[key] = value;
  }
  return { service, doc };
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** Read and validate a configuration file: YAML, or upstream's .ini format when the name ends in .ini and `ini` says how. */
export function loadConfigFile<S extends ConfigSpec>(file: string, spec: S, ini?: IniFormat, warn: ConfigWarn = () => undefined): ConfigOf<S> {
  const text = readConfigText(file);
  if (isIniFile(file)) {
    if (ini === undefined) throw new UsageError(`${file}: .ini files are not read here; write the file as YAML`);
    return validateConfig(iniDocument(file, text, ini, warn, spec).doc, spec, file, process.cwd());
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err);
    throw new UsageError(`${file}: invalid YAML: ${msg}`, { cause: err });
  }
  return validateConfig(doc, spec, file, dirname(resolve(file)));
}

/**
 * The YAML equivalent of an upstream .ini file (`import-ini`): the keys this program knows, typed
 * as they are read, each dropped key as a comment saying why. Values are validated first, so a
 * file that would not load is refused here too.
 */
export function iniToYaml(file: string, spec: ConfigSpec, ini: IniFormat, opts: { hidePasswords: boolean }): string {
  const dropped: string[] = [];
  const { service, doc } = iniDocument(file, readConfigText(file), ini, (m) => dropped.push(m), spec);
  validateConfig(doc, spec, file, process.cwd());
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const field = spec[key];
    if (field === undefined) continue;
    if (field.type === 'int' || (field.type === 'duration' && /^\d+(\.\d+)?$/.test(value))) out[key] = Number(value);
    else if (field.type === 'bool') out[key] = coerce(key, field, value, file, process.cwd());
    else if (field.type === 'strings') out[key] = coerce(key, field, value, file, process.cwd());
    else if (field.type === 'path') out[key] = coerce(key, field, value, file, process.cwd());
    else if (field.type === 'connstr' && opts.hidePasswords) out[key] = maskConnstr(value);
    else out[key] = value;
  }
  const head = [`# converted from ${resolve(file)} [${service}]`, ...dropped.map((d) => `# ${d.slice(d.indexOf(']') + 2).replace(/; remove it from the file to silence this$/, '')}`)];
  if (opts.hidePasswords && Object.entries(doc).some(([k, v]) => spec[k]?.type === 'connstr' && maskConnstr(v) !== v)) {
    head.push('# passwords are left out here ([...]): write the file with --output FILE to keep them, or use ~/.pgpass');
  }
  return `${head.join('\n')}\n${YAML.stringify(out, { lineWidth: 0 })}`;
}

/** Write a converted config file that must not exist yet, readable by its owner only (it may hold passwords). */
export function writeNewFile(path: string, text: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'EEXIST' ? `${path} exists already: choose another name or remove it first` : `cannot write ${path}: ${code ?? String(err)}`, { cause: err });
  }
}

/** A commented sample file for `--ini`, generated from the spec. */
export function sampleConfig(spec: ConfigSpec, header: string): string {
  const lines = header.split('\n').map((l) => (l === '' ? '#' : `# ${l}`));
  for (const [key, f] of Object.entries(spec)) {
    lines.push('');
    for (const l of f.describe.split('\n')) lines.push(`# ${l}`);
    const shown = f.example ?? (f.default === undefined ? undefined : Array.isArray(f.default) ? `[${f.default.join(', ')}]` : String(f.default));
    if (f.required === true) lines.push(`${key}: ${shown ?? ''}`);
    else lines.push(`#${key}: ${shown ?? ''}`);
  }
  return lines.join('\n') + '\n';
}

/** The keys every daemon's file has (what runDaemon reads besides the daemon's own keys). */
export const DAEMON_KEYS = {
  logfile: { type: 'path', describe: 'Append log lines here (default: stderr).' },
  pidfile: { type: 'path', describe: 'Write the daemon pid here (--reload/--stop use it; a second instance is refused).' },
  loglevel: { type: 'loglevel', default: 'info', describe: 'debug, info, warning or error.' },
  log_format: {
    type: 'choice',
    choices: ['text', 'json'],
    default: 'text',
    describe: "text: upstream's lines (time pid LEVEL message); json: one JSON object per line\nwith time, pid, level, job (lines of a job) and message, for log shippers.",
  },
} as const satisfies ConfigSpec;
