// The run-time file tree of some workspace packages, copied out of the repository without npm: each
// package's package.json and dist/, and every package they need at run time (dependencies, optional and
// peer dependencies that are installed), found where Node would find them and placed so that Node finds
// them again from the copy. Used by `make install` (scripts/install.mjs) and `make dist` (scripts/pack.mjs).
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The workspace packages that ship, by name. */
export const WORKSPACES = { '@skytools/core': 'packages/core', '@skytools/pgqd': 'packages/pgqd', '@skytools/londiste': 'packages/londiste', '@skytools/pgq': 'packages/pgq' };

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const inside = (path, dir) => path === dir || path.startsWith(dir + sep);

/** Where Node would find `name` from `fromDir`: the first node_modules/<name> on the way up, inside ROOT. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; inside(dir, ROOT); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT) break;
  }
  return undefined;
}

/**
 * Copy `roots` (workspace names) and what they need. `placeOf(name)` says where each workspace package
 * goes; the node_modules of a workspace go into its place, the repository's node_modules into
 * `target`/node_modules. Returns how many packages were copied; throws when a dependency is missing.
 */
export function copyProductionTree(target, roots, placeOf) {
  const where = (repoPath) => {
    for (const [name, ws] of Object.entries(WORKSPACES)) {
      const wsDir = join(ROOT, ws);
      if (inside(repoPath, wsDir)) return join(placeOf(name), relative(wsDir, repoPath));
    }
    const modules = join(ROOT, 'node_modules');
    if (inside(repoPath, modules)) return join(target, 'node_modules', relative(modules, repoPath));
    throw new Error(`${repoPath} lies outside the workspaces and node_modules`);
  };
  const done = new Set();
  const visit = (pkgDir, isWorkspace) => {
    const real = realpathSync(pkgDir);
    if (done.has(real)) return;
    done.add(real);
    const to = where(real);
    mkdirSync(to, { recursive: true });
    if (isWorkspace) {
      if (!existsSync(join(real, 'dist', 'index.js'))) throw new Error(`${relative(ROOT, real)}/dist is missing: run make build first`);
      cpSync(join(real, 'package.json'), join(to, 'package.json'));
      cpSync(join(real, 'dist'), join(to, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.tsbuildinfo') });
    } else {
      // a nested node_modules is copied package by package, when something needs what it holds
      cpSync(real, to, { recursive: true, filter: (src) => relative(real, src).split(sep)[0] !== 'node_modules' });
    }
    const pj = readJson(join(real, 'package.json'));
    const optional = new Set([
      ...Object.keys(pj.optionalDependencies ?? {}),
      ...Object.entries(pj.peerDependenciesMeta ?? {}).filter(([, m]) => m?.optional === true).map(([n]) => n),
    ]);
    for (const name of new Set([...Object.keys(pj.dependencies ?? {}), ...Object.keys(pj.optionalDependencies ?? {}), ...Object.keys(pj.peerDependencies ?? {})])) {
      if (WORKSPACES[name] !== undefined) {
        visit(join(ROOT, WORKSPACES[name]), true);
        continue;
      }
      const found = resolvePackage(name, real);
      if (found === undefined) {
        if (optional.has(name)) continue;
        throw new Error(`${pj.name} needs ${name}, which is not in node_modules: run make build (npm ci) first`);
      }
      visit(found, false);
    }
  };
  for (const name of roots) visit(join(ROOT, WORKSPACES[name]), true);
  return done.size;
}
