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
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
  return { count: sorted.length, mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length), p50: at(50), p90: at(90), p99: at(99), max: round(sorted[sorted.length - 1]) };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
