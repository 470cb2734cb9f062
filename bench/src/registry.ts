/** Every benchmark of `make bench`, in run order. Add one line per benchmark. */
import type { Benchmark } from './result.js';
import { tickerScale } from './ticker-scale.js';
import { triggerOverhead } from './trigger-overhead.js';

export const BENCHMARKS: Benchmark[] = [triggerOverhead, tickerScale];
