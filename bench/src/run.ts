#!/usr/bin/env node
/**
 * `make bench [QUICK=1] [BENCH=name,...]`: run benchmarks on throw-away clusters, write
 * bench/results/latest.{json,md} and print the summary.
 */
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHMARKS } from './registry.js';
import { writeResults } from './report.js';
import type { BenchResult } from './result.js';

const quick = process.env['QUICK'] === '1' || process.argv.includes('--quick');
const only = (process.env['BENCH'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
const selected = BENCHMARKS.filter((b) => only.length === 0 || only.includes(b.name));
if (selected.length === 0) {
  console.error(only.length > 0 ? `no benchmark named ${only.join(', ')}; have: ${BENCHMARKS.map((b) => b.name).join(', ')}` : 'no benchmarks registered yet');
  process.exit(2);
}

const results: BenchResult[] = [];
for (const b of selected) {
  console.log(`== ${b.name}: ${b.description}${quick ? ' (quick)' : ''}`);
  const started = Date.now();
  results.push(await b.run({ quick, log: (line) => console.log(`   ${line}`) }));
  console.log(`   done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
const meta = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  node: process.version,
};
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
console.log('\n' + writeResults(dir, results, meta));
