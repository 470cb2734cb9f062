// Runs every compiled test file with node:test, then proves that no throw-away cluster survived.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { staleBundles } from './cli-bundle.mjs';

const CLUSTER_DIR_PREFIX = 'skytools-testpg-';

// the tests run the londiste command's bundle: one older than the compiled code would test old code
const stale = staleBundles();
if (stale.length > 0) {
  console.error(`${stale.join(', ')}: missing or older than the code it bundles; run npm run build (tsc --build alone does not rebuild it)`);
  process.exit(1);
}

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findTests(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// Narrow the run with arguments: `npm test -- pgq` runs files whose path contains "pgq".
const filters = process.argv.slice(2);
// Only files whose TypeScript source still exists: tsc leaves stale output of deleted tests behind.
const files = findTests('tests/dist')
  .filter((f) => existsSync(f.replace(/^tests\/dist\//, 'tests/').replace(/\.js$/, '.ts')))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under tests/dist (did the build run?)');
  process.exit(1);
}

const versions = process.env.PG_TEST_VERSIONS || '13,15,17';
// Test files mostly wait on PostgreSQL, so run a few more than there are cores.
const concurrency = process.env.TEST_CONCURRENCY || String(Math.max(2, availableParallelism() + 1));
// 15 minutes per test file; longer runs (make test-faults) raise it
const timeoutMs = process.env.TEST_TIMEOUT_MS || '900000';
console.log(`Running ${files.length} test files against PostgreSQL ${versions} (concurrency ${concurrency})`);

const r = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...files],
  { stdio: 'inherit', env: { ...process.env, PG_TEST_VERSIONS: versions } },
);

// The watchdogs of crashed tests clean up asynchronously; give them a moment before judging.
const leftovers = () => {
  const dirs = readdirSync(tmpdir()).filter((n) => n.startsWith(CLUSTER_DIR_PREFIX));
  const procs = spawnSync('pgrep', ['-f', `-D ${tmpdir()}/${CLUSTER_DIR_PREFIX}`], { encoding: 'utf8' }).stdout.trim();
  return { dirs, procs };
};
let left = leftovers();
for (let i = 0; i < 40 && (left.dirs.length > 0 || left.procs !== ''); i++) {
  spawnSync('sleep', ['0.5']);
  left = leftovers();
}
if (left.dirs.length > 0 || left.procs !== '') {
  console.error(`LEFTOVER test clusters: dirs=${left.dirs.join(',') || 'none'} postgres pids=${left.procs.replace(/\n/g, ',') || 'none'}`);
  process.exit(1);
}
console.log('No test cluster left behind (no data directory, no postgres process).');
process.exit(r.status ?? 1);
