import type { Random } from './rng';

/** An open-loop rate profile: a base rate, an optional linear ramp from zero, an optional burst. */
export interface RateShape {
  rps: number;
  /** The rate ramps linearly from 0 to `rps` over this long. */
  rampMs?: number;
  /** `factor`× the rate from `atMs` for `durationMs`. */
  burst?: { factor: number; atMs: number; durationMs: number };
}

export function rateAt(shape: RateShape, tMs: number): number {
  let rate = shape.rps;
  if (shape.rampMs && tMs < shape.rampMs) rate *= tMs / shape.rampMs;
  const b = shape.burst;
  if (b && tMs >= b.atMs && tMs < b.atMs + b.durationMs) rate *= b.factor;
  return rate;
}

/**
 * Arrival times (ms from the start) of a Poisson process whose rate follows the shape, by
 * thinning: candidates at the peak rate, each kept with probability rate(t)/peak. Exact for any
 * piecewise rate, and the schedule depends only on the seed, never on how the server behaves.
 */
export function poissonArrivals(shape: RateShape, rand: Random): () => number {
  const peak = shape.rps * Math.max(1, shape.burst?.factor ?? 1);
  let t = 0;
  return () => {
    for (;;) {
      t += (-Math.log(1 - rand()) * 1000) / peak;
      if (rand() * peak < rateAt(shape, t)) return t;
    }
  };
}
