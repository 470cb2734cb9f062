// The compose demo's seed (docker/compose.yaml, service "seed"), the same scenario as `make demo`
// (tests/demo/run-demo.ts): the blog's schema with DEMO_USERS users in digoal_01 on the PostgreSQL 13
// source, the same tables empty on the PostgreSQL 17 target, a root, a branch (dst1_digoal_01: every
// table and sequence) and a leaf (dst2_digoal_02: two tables renamed into digoal_02, userid < 1000).
// londisted then copies and replicates. A second run finds the source seeded and does nothing.
// Runs inside the image: ./seed-schema.js is tests/harness's seed, copied there by docker/Dockerfile.
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { createSeedSchema } from './seed-schema.js';

const CONFIG = process.env.SKYTOOLS_CONFIG_DIR || '/etc/skytools';
const USERS = Number(process.env.DEMO_USERS || 200000);
// the compose services' names; tests/packaging/compose-demo.test.ts points them at its own servers
const SOURCE = { host: process.env.SOURCE_HOST || 'source', port: Number(process.env.SOURCE_PORT || 5432) };
const TARGET = { host: process.env.TARGET_HOST || 'target', port: Number(process.env.TARGET_PORT || 5432) };
const location = (server, db) => `host=${server.host} port=${server.port} user=postgres dbname=${db}`;

const say = (line) => process.stdout.write(`${line}\n`);

async function withDb(server, db, fn) {
  const client = new pg.Client({ host: server.host, port: server.port, user: 'postgres', database: db });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function londiste(job, ...args) {
  const r = spawnSync('londiste', [`${CONFIG}/jobs.d/${job}.yaml`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`londiste ${job} ${args[0]} failed (exit ${r.status})`);
}

async function main() {
  const seeded = await withDb(SOURCE, 'postgres', async (c) => (await c.query(`SELECT 1 FROM pg_database WHERE datname = 'digoal_01'`)).rowCount > 0);
  if (seeded) {
    say('the source has digoal_01 already: nothing to seed');
    return;
  }
  say(`source: digoal_01 with ${USERS} users; target: digoal_01 (empty tables) and digoal_02`);
  await withDb(SOURCE, 'postgres', (c) => c.query('CREATE DATABASE digoal_01'));
  await withDb(SOURCE, 'digoal_01', (c) => createSeedSchema(c, { users: USERS, keyedLogs: true, functions: true }));
  await withDb(TARGET, 'postgres', async (c) => {
    await c.query('CREATE DATABASE digoal_01');
    await c.query('CREATE DATABASE digoal_02');
  });
  await withDb(TARGET, 'digoal_01', (c) => createSeedSchema(c, { users: 0, keyedLogs: true }));

  const src = location(SOURCE, 'digoal_01');
  londiste('src_digoal_01', 'create-root', 'src_digoal_01', src);
  await withDb(SOURCE, 'digoal_01', (c) => c.query(`SELECT pgq.set_queue_config('replika', 'ticker_max_lag', '100 milliseconds')`));
  londiste('dst1_digoal_01', 'create-branch', 'dst1_digoal_01', location(TARGET, 'digoal_01'), `--provider=${src}`);
  londiste('dst2_digoal_02', 'create-leaf', 'dst2_digoal_02', location(TARGET, 'digoal_02'), `--provider=${src}`);
  londiste('src_digoal_01', 'add-table', '--all');
  londiste('src_digoal_01', 'add-seq', '--all');
  londiste('dst1_digoal_01', 'add-table', '--all');
  londiste('dst1_digoal_01', 'add-seq', '--all');
  for (const t of ['user_info', 'user_session']) {
    londiste('dst2_digoal_02', 'add-table', `digoal_01.${t}`, `--dest-table=digoal_02.${t}1`, '--where=userid < 1000', '--create');
  }
  say('seeded: londisted copies the tables now (londiste /etc/skytools/jobs.d/src_digoal_01.yaml status)');
}

main().catch((err) => {
  process.stderr.write(`ERROR ${err.message}\n`);
  process.exit(1);
});
