import pg from 'pg';
import { spawnSync } from 'node:child_process';
import { CopyRelay } from '/work/main/packages/core/dist/index.js';
import { startCluster, clientBinDir } from '/work/main/tests/harness/dist/index.js';
const [a, b] = await Promise.all([startCluster(15, {settings: {shared_buffers: '256MB', max_wal_size: '2GB'}}), startCluster(15, {settings: {shared_buffers: '256MB', max_wal_size: '2GB'}})]);
await a.createDatabase('s'); await b.createDatabase('d');
const BIG = '(id bigint PRIMARY KEY, a int, b text, c timestamptz, d numeric)';
await a.query('s', `CREATE TABLE big ${BIG}`);
await a.query('s', `INSERT INTO big SELECT g, g % 1000, 'row ' || g, now(), g / 3.0 FROM generate_series(1, 5000000) g`);
await a.query('s', 'VACUUM ANALYZE big');
await b.query('d', `CREATE TABLE big ${BIG}; ALTER TABLE big SET (autovacuum_enabled = off); CREATE TABLE bigp ${BIG}; ALTER TABLE bigp SET (autovacuum_enabled = off)`);
if (process.env.TRG) await b.query('d', `CREATE FUNCTION deny() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$; CREATE TRIGGER _londiste_q AFTER INSERT OR UPDATE OR DELETE ON big FOR EACH ROW EXECUTE FUNCTION deny()`);
const psql = clientBinDir() + '/psql';
const conn = (c, db) => `-h 127.0.0.1 -p ${c.port} -U ${c.user} -d ${db}`;
async function quiet() { await b.query('d', 'TRUNCATE big, bigp; CHECKPOINT'); }
function pipe(fmt) {
  const o = fmt === 'binary' ? ' (FORMAT binary)' : '';
  const t0 = performance.now();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${psql} -X -q ${conn(a,'s')} -c "COPY big TO STDOUT${o}" | ${psql} -X -q ${conn(b,'d')} -c "COPY bigp FROM STDIN${o}"`]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  return (performance.now() - t0) / 1000;
}
async function relay(fmt) {
  const o = fmt === 'binary' ? ' (FORMAT binary)' : '';
  const s = new pg.Client(a.clientConfig('s')); await s.connect();
  const d = new pg.Client(b.clientConfig('d')); await d.connect();
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'); await d.query('BEGIN'); await d.query('SET LOCAL session_replication_role = replica'); await d.query('TRUNCATE big');
  if (process.env.NOPK) await d.query('ALTER TABLE big DROP CONSTRAINT big_pkey');
  await new CopyRelay().run(s, `COPY (SELECT id, a, b, c, d FROM big) TO STDOUT${o}`, d, `COPY big (id, a, b, c, d) FROM STDIN${o}`);
  if (process.env.NOPK) await d.query('ALTER TABLE big ADD CONSTRAINT big_pkey PRIMARY KEY (id)');
  await d.query('COMMIT'); await s.query('COMMIT');
  const t = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
  await s.end(); await d.end();
  return `${t.toFixed(2)} (node cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)})`;
}
for (let r = 0; r < 3; r++) {
  for (const fmt of ['binary']) {
    await quiet(); const p = pipe(fmt);
    await quiet(); const o = await relay(fmt);
    console.log(fmt, 'pipe', p.toFixed(2), 'relay', o);
  }
}
await Promise.all([a.stop(), b.stop()]);
