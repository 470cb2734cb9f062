/**
 * Durations in configuration: a number means seconds (upstream's convention), a string may carry
 * a unit: `500ms`, `2s`, `1.5m`, `1h`, `1d`. Result in milliseconds.
 */
const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?\s*$/.exec(value);
  if (m?.[1] === undefined) return undefined;
  return Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
}

/** Render milliseconds compactly for logs: 250ms, 1.5s, 2m, 1h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}
