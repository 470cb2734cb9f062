/**
 * compare and repair of user_info (1M rows; 100k with QUICK) between a root on PostgreSQL 13 and a
 * leaf on 17, replicated by londiste and frozen at one tick as the commands do. Anchor: what a DBA
 * would run by hand, `psql -c "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY userid))"` on
 * both servers in parallel (no consistency: it reads the two sides at unrelated moments). Then 1,000
 * rows are damaged on the leaf (deleted, changed, extra) and repair lists them (--output) and fixes
 * them (--apply): wall time and peak RSS of the process (VmHWM).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PgCluster } from '@skytools/harness';
import type { Benchmark, BenchOptions, BenchResult } from './result.js';
import { plainFigure, ratioFigure } from './result.js';
import { peakRssMb } from './proc-stats.js';
import { binPath, Rig } from './replication-rig.js';

interface Timed {
  seconds: number;
  /** Peak resident set of the process, MB (when run under GNU time). */
  rssMb: number;
  out: string;
}

/** Run a command to completion; its peak RSS read from /proc while it runs (every 10 ms) when `measureRss`. */
function timed(cmd: string, args: string[], measureRss: boolean): Promise<Timed> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let peak = NaN;
    const poll = measureRss && p.pid !== undefined ? setInterval(() => {
      const v = peakRssMb(p.pid ?? 0);
      if (!Number.isNaN(v)) peak = Number.isNaN(peak) ? v : Math.max(peak, v);
    }, 10) : undefined;
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${String(code)}:\n${out}`));
      resolve({ seconds: (performance.now() - t0) / 1000, rssMb: peak, out });
    });
  });
}

function psqlDigest(c: PgCluster, db: string): Promise<Timed> {
  const sql = `SELECT count(*), md5(string_agg(t::text, '|' ORDER BY userid)) FROM digoal_01.user_info t`;
  return timed('psql', ['-X', '-A', '-t', '-d', c.connectionString(db), '-c', sql], false);
}

export const compareRepair: Benchmark = {
  name: 'compare-repair',
  description: 'compare of user_info (13 -> 17) against psql count+md5 on both sides in parallel; repair of 1,000 damaged rows: time and peak RSS',
  async run(opts: BenchOptions): Promise<BenchResult> {
    const users = opts.quick ? 100_000 : 1_000_000;
    const rig = await Rig.start({ srcMajor: 13, dstMajor: 17, users });
    try {
      await rig.addTables(['user_info']);
      await rig.waitCaughtUp();
      opts.log(`   user_info (${String(users)} rows) in sync on the leaf`);
      const londisteJs = binPath('londiste', 'londiste');

      const t0 = performance.now();
      const [a, b] = await Promise.all([psqlDigest(rig.src, rig.srcDb), psqlDigest(rig.dst, rig.leafDb)]);
      const anchor = (performance.now() - t0) / 1000;
      if (a.out.trim() !== b.out.trim()) throw new Error(`the anchor's digests differ: ${a.out.trim()} / ${b.out.trim()}`);
      const cmp = await timed(process.execPath, [londisteJs, rig.leafJob, 'compare', 'digoal_01.user_info'], false);
      if (!/: equal$/m.test(cmp.out)) throw new Error(`compare did not say equal:\n${cmp.out}`);
      const cnt = await timed(process.execPath, [londisteJs, rig.leafJob, 'compare', 'digoal_01.user_info', '--count-only'], false);
      opts.log(`   psql count+md5 on both sides in parallel ${anchor.toFixed(2)}s; compare ${cmp.seconds.toFixed(2)}s; compare --count-only ${cnt.seconds.toFixed(2)}s`);

      // 1,000 differences: 300 deleted, 400 changed, 300 extra rows
      await rig.dst.withClient(rig.leafDb, async (c) => {
        await c.query('SET session_replication_role = replica');
        const step = Math.floor(users / 700);
        await c.query(`DELETE FROM digoal_01.user_info WHERE userid IN (SELECT g * ${String(step)} FROM generate_series(1, 300) g)`);
        await c.query(`UPDATE digoal_01.user_info SET engname = 'damaged' WHERE userid IN (SELECT g * ${String(step)} FROM generate_series(301, 700) g)`);
        await c.query(`INSERT INTO digoal_01.user_info (userid, engname) SELECT ${String(users)} + g, 'extra' FROM generate_series(1, 300) g`);
      });
      const file = join(rig.work, 'fix.sql');
      const list = await timed(process.execPath, [londisteJs, rig.leafJob, 'repair', 'digoal_01.user_info', `--output=${file}`], true);
      const statements = readFileSync(file, 'utf8').split('\n').filter((l) => /^(INSERT|UPDATE|DELETE)/.test(l)).length;
      if (statements !== 1000) throw new Error(`repair listed ${String(statements)} statements, not 1000`);
      const fix = await timed(process.execPath, [londisteJs, rig.leafJob, 'repair', 'digoal_01.user_info', '--apply'], true);
      if (!/fixed 300 missing, 400 different and 300 extra rows/.test(fix.out)) throw new Error(`repair --apply:\n${fix.out}`);
      const again = await timed(process.execPath, [londisteJs, rig.leafJob, 'compare', 'digoal_01.user_info'], false);
      if (!/: equal$/m.test(again.out)) throw new Error(`compare after repair --apply did not say equal:\n${again.out}`);
      opts.log(`   repair (1,000 differences) ${list.seconds.toFixed(2)}s, peak RSS ${list.rssMb.toFixed(0)} MB; repair --apply ${fix.seconds.toFixed(2)}s, peak RSS ${fix.rssMb.toFixed(0)} MB`);
      return {
        name: this.name,
        description: this.description,
        figures: [
          ratioFigure(`compare of ${String(users)} rows, wall time`, cmp.seconds, 's', 'psql count+md5 on both sides in parallel', anchor, '<= 1.5'),
          ratioFigure('compare --count-only, wall time', cnt.seconds, 's', 'psql count+md5 on both sides in parallel', anchor),
          plainFigure(`repair of ${String(users)} rows with 1,000 differences, wall time`, list.seconds, 's'),
          plainFigure('repair, peak RSS', list.rssMb, 'MB', '<= 200'),
          plainFigure('repair --apply, wall time', fix.seconds, 's'),
          plainFigure('repair --apply, peak RSS', fix.rssMb, 'MB', '<= 200'),
        ],
        notes: [
          'compare and repair include the freeze: the leaf catches up, the root locks the table briefly and exports a snapshot, the leaf applies the forced tick',
          'the anchor reads the two sides at unrelated moments: it cannot compare a table that is being written',
          'repair --apply reads both sides twice: the merge, then the checksums that decide the commit',
        ],
      };
    } finally {
      await rig.stop();
    }
  },
};
