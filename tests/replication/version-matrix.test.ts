// The seed scenario across major versions: each pair of PG_MATRIX_PAIRS ("10-18,18-10", the
// default, run by `make test`; `make test-matrix` runs every upgrade and downgrade step between
// neighbours plus both extremes; PG_MATRIX_PAIRS=all runs every source x target pair of 10..18).
import { describeSeedScenario } from './seed-scenario.js';

const MAJORS = [10, 11, 12, 13, 14, 15, 16, 17, 18];

function pairs(spec: string): [number, number][] {
  if (spec === 'all') return MAJORS.flatMap((a) => MAJORS.map((b): [number, number] => [a, b]));
  return spec.split(',').map((p) => {
    const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(p);
    if (m?.[1] === undefined || m[2] === undefined) throw new Error(`PG_MATRIX_PAIRS: "${p}" is not SOURCE-TARGET (e.g. 10-18), nor is the list "all"`);
    return [Number(m[1]), Number(m[2])];
  });
}

for (const [src, dst] of pairs(process.env['PG_MATRIX_PAIRS'] ?? '10-18,18-10')) describeSeedScenario(src, dst);
