import { describe, expect, it } from 'vitest';
import { poissonArrivals, rateAt, type RateShape } from './arrivals';
import { seeded } from './rng';

/** Arrivals per window over `untilMs`. */
function histogram(shape: RateShape, seed: number, windows: [number, number][], untilMs: number): number[] {
  const next = poissonArrivals(shape, seeded(seed));
  const counts = windows.map(() => 0);
  for (let t = next(); t < untilMs; t = next()) windows.forEach(([a, b], i) => t >= a && t < b && counts[i]++);
  return counts;
}

describe('loadgen arrivals: the offered rate follows --rps, --ramp and --burst', () => {
  const shape: RateShape = { rps: 100, rampMs: 10_000, burst: { factor: 5, atMs: 20_000, durationMs: 5_000 } };
  const windows: [number, number][] = [
    [0, 5_000],
    [5_000, 10_000],
    [10_000, 20_000],
    [20_000, 25_000],
    [25_000, 30_000],
  ];
  // Expected arrivals: the integral of the rate over each window.
  const expected = [125, 375, 1000, 2500, 500];

  it.each([1, 2, 3])('seed %i: counts within 4 standard deviations of the shape', (seed) => {
    const counts = histogram(shape, seed, windows, 30_000);
    counts.forEach((n, i) => expect(Math.abs(n - expected[i]), `window ${windows[i]} got ${n}, expected ≈${expected[i]}`).toBeLessThan(4 * Math.sqrt(expected[i])));
  });

  it('the rate function is the ramp times the burst', () => {
    expect([0, 2_500, 10_000, 19_999, 20_000, 24_999, 25_000].map((t) => rateAt(shape, t))).toEqual([0, 25, 100, 100, 500, 500, 100]);
  });

  it('the schedule depends only on the seed', () => {
    const a = poissonArrivals(shape, seeded(9));
    const b = poissonArrivals(shape, seeded(9));
    for (let i = 0; i < 100; i++) expect(a()).toBe(b());
  });
});
