/** Percentile summaries (nearest rank) for latency samples. */
export interface Summary {
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) return { count: 0, mean: null, p50: null, p90: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: sorted.length, mean: round(sum / sorted.length), p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: round(sorted[sorted.length - 1]) };
}

/** Nearest-rank percentile of ascending values: the smallest value with at least p% at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
