/**
 * What a benchmark reports: figures, each optionally compared with an anchor measured in the
 * same run (the ratio is what matters; absolute numbers depend on the machine) and a target.
 */
export interface Figure {
  /** e.g. "TPS with logutriga" */
  label: string;
  value: number;
  unit: string;
  /** The anchor this figure is compared with, e.g. "TPS without trigger". */
  anchorLabel?: string;
  anchorValue?: number;
  /** value / anchorValue, or anchorValue / value when lowerIsBetter. */
  ratio?: number;
  /** e.g. ">= 0.85" or "<= 1.5" applied to the ratio (or the value when there is no anchor). */
  target?: string;
  met?: boolean;
  /** Where the figure should end up, beyond the target (e.g. ">= 3" when the target is ">= 2"). */
  goal?: string;
  goalMet?: boolean;
}

export interface BenchResult {
  name: string;
  description: string;
  figures: Figure[];
  notes: string[];
}

export interface BenchOptions {
  /** Shorter runs for `make bench QUICK=1`. */
  quick: boolean;
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

/** Evaluate a target such as ">= 0.85" or "<= 1.5". */
export function meets(value: number, target: string): boolean {
  const m = /^\s*(>=|<=|>|<)\s*([0-9.]+)\s*$/.exec(target);
  if (m?.[2] === undefined) return false;
  const t = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return value >= t;
    case '<=':
      return value <= t;
    case '>':
      return value > t;
    default:
      return value < t;
  }
}

/** Attach a target, judged on `measured` (the ratio, or the value when there is no anchor). */
function judged(f: Figure, measured: number, target: string | undefined, goal: string | undefined): Figure {
  if (target !== undefined) {
    f.target = target;
    f.met = meets(measured, target);
  }
  if (goal !== undefined) {
    f.goal = goal;
    f.goalMet = meets(measured, goal);
  }
  return f;
}

/** A figure compared with its anchor; ratio = value / anchor. */
export function ratioFigure(label: string, value: number, unit: string, anchorLabel: string, anchorValue: number, target?: string, goal?: string): Figure {
  const ratio = anchorValue === 0 ? NaN : value / anchorValue;
  return judged({ label, value, unit, anchorLabel, anchorValue, ratio }, ratio, target, goal);
}

export function plainFigure(label: string, value: number, unit: string, target?: string, goal?: string): Figure {
  return judged({ label, value, unit }, value, target, goal);
}

/** A time compared with its anchor's time; ratio = anchor / value, so above 1 means faster. */
export function speedupFigure(label: string, value: number, unit: string, anchorLabel: string, anchorValue: number, target?: string, goal?: string): Figure {
  const ratio = value === 0 ? NaN : anchorValue / value;
  return judged({ label, value, unit, anchorLabel, anchorValue, ratio }, ratio, target, goal);
}
