// Upstream's own SQL regression suites run against our schema, as pg_regress runs them:
//   make test-upstream-sql DIR=/path/to/checkout [DIR2 ...]   (checkouts of github.com/pgq/pgq, pgq-node, pgq-coop, londiste-sql)
// Each suite's Contrib_regress list (the no-extension install) runs in order in one database of a
// throw-away cluster, its `\i` of upstream's install scripts replaced by ours; the output is
// compared with expected/NAME.out (or an alternative NAME_N.out). Their files are read where
// they are and never copied into this repository. PG_VERSION picks the server (default 15);
// results and diffs go to UPSTREAM_SQL_OUT (default /tmp/upstream-sql-results).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clientBinDir, startCluster } from '../tests/harness/dist/index.js';

const root = resolve(import.meta.dirname, '..');
const schema = (name) => join(root, 'schema', name, 'install.sql');
const outDir = resolve(process.env.UPSTREAM_SQL_OUT || '/tmp/upstream-sql-results');
const dirs = process.argv.slice(2).map((d) => resolve(d));
if (dirs.length === 0) {
  console.error('usage: make test-upstream-sql DIR=/path/to/pgq [DIR=...]: a checkout of github.com/pgq/pgq, pgq/pgq-node or pgq/londiste-sql');
  process.exit(2);
}

// Upstream scripts an install line of theirs stands for, by suite; anything else under \i is an error.
const INCLUDES = {
  pgq: { 'structure/install.sql': ['pgq'], 'structure/newgrants_pgq.sql': [] },
  pgq_node: { '../pgq/pgq.sql': ['pgq'], 'structure/tables.sql': ['pgq_node'], 'structure/functions.sql': [] },
  londiste: { '../pgq/pgq.sql': ['pgq'], '../pgq_node/pgq_node.sql': ['pgq_node'], 'londiste.sql': ['londiste'] },
  pgq_coop: { '../pgq/pgq.sql': ['pgq'], 'structure/schema.sql': ['pgq_coop'], 'structure/functions.sql': [] },
};
// Tests that need upstream's C extension or its own files: not applicable to a plain-SQL schema.
const NOT_APPLICABLE = new Set(['pgq_init_ext', 'clean_ext', 'switch_plonly', 'pgq_node_init_ext', 'init_ext', 'pgq_coop_init_ext']);

const STALE_FIRST_LINE = new Set(['pgq_coop_init_noext']);

/** Make's variables of the Makefile, expanded (enough for these three Makefiles). */
function makeVars(text) {
  const vars = {};
  const joined = text.replace(/\\\n/g, ' ');
  for (const line of joined.split('\n')) {
    const m = /^([A-Za-z_]+)\s*[:+]?=\s*(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2].trim();
  }
  const expand = (s, depth = 0) => (depth > 10 ? s : s.replace(/\$\(([A-Za-z_]+)\)/g, (_, v) => expand(vars[v] ?? '', depth + 1)));
  return (name) => expand(vars[name] ?? '').split(/\s+/).filter(Boolean);
}

function suiteOf(dir) {
  const mk = readFileSync(join(dir, 'Makefile'), 'utf8');
  const ext = /^EXTENSION\s*=\s*(\S+)/m.exec(mk)?.[1];
  if (!(ext in INCLUDES)) throw new Error(`${dir}: not a checkout of pgq, pgq-node, pgq-coop or londiste-sql (EXTENSION = ${ext})`);
  return { name: ext, tests: makeVars(mk)('Contrib_regress') };
}

/** The test's SQL with upstream's install scripts replaced by ours (output of the install hidden, psql settings restored). */
function rewrite(sql, suite, dir, file) {
  return sql.replace(/^\\i\s+(\S+)\s*$/gm, (line, path) => {
    const ours = INCLUDES[suite][path];
    if (ours !== undefined) {
      // upstream's install scripts end by printing upgrade_schema()'s result: ours runs it hidden
      // (pgq_coop has no upgrade_schema of its own upstream: nothing printed for it)
      const printed = ours.filter((s) => s !== 'pgq_coop');
      return ['\\o /dev/null', ...ours.map((s) => `\\i ${schema(s)}`), '\\o', '\\set ON_ERROR_STOP 0', 'RESET check_function_bodies;', ...printed.map((s) => `SELECT ${s}.upgrade_schema();`)].join('\n');
    }
    const fn = /^functions\/(pgq\.[a-z_]+\.sql)$/.exec(path);
    if (fn && existsSync(join(root, 'schema', 'pgq', 'functions', fn[1]))) return `\\i ${join(root, 'schema', 'pgq', 'functions', fn[1])}`;
    throw new Error(`${file}: no counterpart here for "${line}" (of ${dir})`);
  });
}

const major = Number(process.env.PG_VERSION || 15);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const cluster = await startCluster(major);
const psql = join(clientBinDir(), 'psql');
const summary = [];
let failed = 0;
try {
  for (const dir of dirs) {
    const suite = suiteOf(dir);
    // as upstream's Makefiles set it (CONTRIB_TESTDB); a new one for each suite
    const db = 'regression';
    await cluster.query('postgres', `DROP DATABASE IF EXISTS ${db}`);
    await cluster.createDatabase(db);
    await cluster.query('postgres', `ALTER DATABASE ${db} SET lc_messages TO 'C'`);
    await cluster.query('postgres', `ALTER DATABASE ${db} SET timezone_abbreviations TO 'Default'`);
    await cluster.query('postgres', `ALTER DATABASE ${db} SET intervalstyle TO 'postgres_verbose'`);
    const work = join(outDir, suite.name);
    mkdirSync(work, { recursive: true });
    let pass = 0;
    let total = 0;
    for (const test of suite.tests) {
      // pgq's list goes on with a second round on the extension: not for a plain-SQL schema
      if (test === 'clean_ext') break;
      if (NOT_APPLICABLE.has(test)) {
        console.log(`${suite.name}/${test}: not applicable (extension or upstream-internal files)`);
        continue;
      }
      total += 1;
      const src = join(dir, 'sql', `${test}.sql`);
      const input = join(work, `${test}.sql`);
      writeFileSync(input, rewrite(readFileSync(src, 'utf8'), suite.name, dir, src));
      // pg_regress sends stdout and stderr into one file, in the order written
      const outFile = join(work, `${test}.out`);
      const fd = openSync(outFile, 'w');
      try {
        spawnSync(psql, ['-X', '-a', '-q', '-d', cluster.connectionString(db)], {
          stdio: [openSync(input, 'r'), fd, fd],
          cwd: work,
          env: { ...process.env, PGTZ: 'PST8PDT', PGDATESTYLE: 'Postgres, MDY', LC_MESSAGES: 'C', PGAPPNAME: 'pg_regress' },
        });
      } finally {
        closeSync(fd);
      }
      const expected = readdirSync(join(dir, 'expected')).filter((f) => f === `${test}.out` || new RegExp(`^${test}_\\d+\\.out$`).test(f));
      // pgq-coop's expected output of its no-extension init predates the \\set VERBOSITY line its
      // script starts with (upstream's CI runs the extension list), so psql's echo of that one line
      // is not compared
      if (STALE_FIRST_LINE.has(test)) writeFileSync(outFile, readFileSync(outFile, 'utf8').replace(/^\\set VERBOSITY 'terse'\n/, ''));
      const diffs = expected.map((f) => spawnSync('diff', ['-u', join(dir, 'expected', f), outFile], { encoding: 'utf8' }).stdout);
      const best = diffs.reduce((a, b) => (a === undefined || b.length < a.length ? b : a), undefined) ?? 'no expected output';
      if (best === '') {
        pass += 1;
        console.log(`${suite.name}/${test}: ok`);
      } else {
        failed += 1;
        writeFileSync(join(work, `${test}.diff`), best);
        console.log(`${suite.name}/${test}: FAILED (${best.split('\n').filter((l) => /^[-+][^-+]/.test(l)).length} lines differ; ${join(work, `${test}.diff`)})`);
      }
    }
    summary.push(`${suite.name}: ${pass} of ${total} pass`);
  }
} finally {
  await cluster.stop();
}
console.log(summary.join('\n'));
console.log(`results and diffs: ${outDir}`);
process.exit(failed === 0 ? 0 : 1);
