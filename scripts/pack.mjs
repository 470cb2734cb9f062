// `make dist`: npm tarballs of the four packages in dist/ (skytools-core-V.tgz, skytools-pgqd-V.tgz,
// skytools-londiste-V.tgz, skytools-pgq-V.tgz: the consumer library and the pgq command), from the built dist/ directories. Each is staged in a temporary directory
// with a package.json fit for installing; @skytools/core carries the SQL (schema/). pgqd and londiste
// bundle every run-time dependency (core included): @skytools/* is not on the npm registry, `npm
// install -g` gives each global package its own dependencies, and npm takes the dependencies of a
// bundled package to be bundled too. So `npm install -g` of either needs no registry at all, and
// installs the very versions the tests ran with (docs/operations.md, "npm").
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { copyProductionTree, ROOT } from './production-tree.mjs';
const OUT = resolve(process.env.DIST_DIR || join(ROOT, 'dist'));
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const rootPkg = readJson(join(ROOT, 'package.json'));

function die(line) {
  process.stderr.write(`ERROR ${line}\n`);
  process.exit(1);
}

/** The package.json a tarball gets: no private flag, no dev tooling, what npm needs to install it. */
function manifest(ws, extra = {}) {
  const rest = readJson(join(ROOT, ws, 'package.json'));
  for (const key of ['private', 'devDependencies', 'scripts']) delete rest[key];
  return {
    ...rest,
    description: rootPkg.description,
    license: rootPkg.license,
    engines: rootPkg.engines,
    files: ['dist', ...(extra.files ?? [])],
    ...(extra.dependencies !== undefined ? { dependencies: extra.dependencies } : {}),
    ...(extra.bundleDependencies !== undefined ? { bundleDependencies: extra.bundleDependencies } : {}),
  };
}

/** README and, for core, the SQL next to a staged package (its dist and package.json are already there). */
function finish(into, pj, withSchema) {
  writeFileSync(join(into, 'package.json'), `${JSON.stringify(pj, null, 2)}\n`);
  cpSync(join(ROOT, 'README.md'), join(into, 'README.md'));
  if (withSchema) cpSync(join(ROOT, 'schema'), join(into, 'schema'), { recursive: true });
}

function pack(dir) {
  const r = spawnSync('npm', ['pack', '--pack-destination', OUT, '--ignore-scripts', '--silent'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) die(`npm pack ${dir} failed: ${r.stderr.trim()}`);
  return r.stdout.trim().split('\n').pop();
}

for (const ws of ['packages/core', 'packages/pgqd', 'packages/londiste', 'packages/pgq']) {
  if (!existsSync(join(ROOT, ws, 'dist', 'index.js'))) die(`${ws}/dist is missing: run make build first`);
}
mkdirSync(OUT, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'skytools-pack-'));
try {
  const corePj = manifest('packages/core', { files: ['schema'] });
  const coreDir = join(work, 'core');
  // on its own, core is a library for a project's node_modules: npm installs its dependencies there
  mkdirSync(coreDir, { recursive: true });
  cpSync(join(ROOT, 'packages/core/dist'), join(coreDir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.tsbuildinfo') });
  finish(coreDir, corePj, true);
  const made = [pack(coreDir)];
  for (const name of ['pgqd', 'londiste', 'pgq']) {
    const ws = `packages/${name}`;
    const own = readJson(join(ROOT, ws, 'package.json')).dependencies ?? {};
    // the bundled core's dependencies are the outer package's too: npm installs only what a package names
    const pj = manifest(ws, { dependencies: { ...corePj.dependencies, ...own }, bundleDependencies: true });
    const dir = join(work, name);
    const placeOf = (pkg) => (pkg === `@skytools/${name}` ? dir : join(dir, 'node_modules', pkg));
    copyProductionTree(dir, [`@skytools/${name}`], placeOf);
    finish(dir, pj, false);
    finish(placeOf('@skytools/core'), corePj, true);
    made.push(pack(dir));
  }
  for (const f of made) process.stdout.write(`${join(OUT, f)}\n`);
} catch (err) {
  die(err.message);
} finally {
  rmSync(work, { recursive: true, force: true });
}
