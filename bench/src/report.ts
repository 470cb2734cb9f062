/** Markdown summary and JSON output of a bench run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult, Figure } from './result.js';

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function row(f: Figure): string {
  const anchor = f.anchorLabel === undefined ? '' : `${f.anchorLabel}: ${fmt(f.anchorValue)}`;
  const verdict = f.met === undefined ? '' : f.met ? 'met' : 'NOT met';
  const goal = f.goal === undefined ? '' : `${f.goal} (${f.goalMet === true ? 'reached' : 'not yet'})`;
  return `| ${f.label} | ${fmt(f.value)} ${f.unit} | ${anchor} | ${fmt(f.ratio)} | ${f.target ?? ''} | ${verdict} | ${goal} |`;
}

export function summarize(results: BenchResult[], meta: Record<string, string>): string {
  const out: string[] = ['# Benchmark summary', ''];
  for (const [k, v] of Object.entries(meta)) out.push(`- ${k}: ${v}`);
  for (const r of results) {
    out.push('', `## ${r.name}`, '', r.description, '', '| figure | value | anchor | ratio | target | | goal |', '|---|---|---|---|---|---|---|');
    for (const f of r.figures) out.push(row(f));
    for (const n of r.notes) out.push('', `- ${n}`);
  }
  return out.join('\n') + '\n';
}

export function writeResults(dir: string, results: BenchResult[], meta: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  const md = summarize(results, meta);
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.md'), md);
  return md;
}
