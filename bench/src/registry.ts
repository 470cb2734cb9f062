/** Every benchmark of `make bench`, in run order. Add one line per benchmark. */
import type { Benchmark } from './result.js';
import { bulkApply } from './bulk-apply.js';
import { compareRepair } from './compare-repair.js';
import { consumerThroughput } from './consumer-throughput.js';
import { initialCopy } from './initial-copy.js';
import { lag } from './lag.js';
import { supervisorFootprint } from './supervisor-footprint.js';
import { switchover } from './switchover.js';
import { tickerScale } from './ticker-scale.js';
import { triggerOverhead } from './trigger-overhead.js';

export const BENCHMARKS: Benchmark[] = [
  triggerOverhead,
  tickerScale,
  bulkApply('bulk-apply', 15, 15),
  lag,
  initialCopy,
  supervisorFootprint,
  switchover,
  compareRepair,
  consumerThroughput,
  bulkApply('bulk-apply-13-to-17', 13, 17),
];
