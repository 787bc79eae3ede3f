import { describe, expect, it } from 'vitest';
import {
  detectionPeriodsQuantile,
  expectedConfirmations,
  expectedDetectionPeriods,
  lifeguardSuspicionTimeoutMs,
  pushPullIntervalMs,
  retransmitLimit,
  scaleByAwareness,
  suspicionTimeoutMs,
} from './math';

describe('swim math', () => {
  it.each([
    // mult, n, interval, expected (memberlist's suspicionTimeout table)
    [3, 10, 1000, 3000],
    [4, 1, 1000, 4000],
    [4, 100, 1000, 8000],
    [4, 1000, 1000, 12000],
    [4, 500, 1000, 10796],
    [3, 5, 200, 600],
  ])('suspicion minimum: mult=%i n=%i interval=%i -> %i ms', (mult, n, interval, expected) => {
    expect(suspicionTimeoutMs(mult, n, interval)).toBe(expected);
  });

  it.each([
    [4, 0, 0],
    [4, 1, 4],
    [4, 9, 4],
    [4, 10, 8],
    [4, 99, 8],
    [4, 100, 12],
    [4, 500, 12],
    [2, 5, 2],
  ])('retransmit limit: mult=%i n=%i -> %i', (mult, n, expected) => {
    expect(retransmitLimit(mult, n)).toBe(expected);
  });

  it.each([
    [30_000, 1, 30_000],
    [30_000, 32, 30_000],
    [30_000, 33, 60_000],
    [30_000, 64, 60_000],
    [30_000, 65, 90_000],
    [30_000, 500, 150_000],
  ])('push-pull interval: base=%i n=%i -> %i', (base, n, expected) => {
    expect(pushPullIntervalMs(base, n)).toBe(expected);
  });

  it.each([
    [4, 100, 2],
    [4, 4, 2],
    [4, 3, 0],
    [3, 10, 1],
    [2, 10, 0],
  ])('expected confirmations: mult=%i n=%i -> k=%i', (mult, n, k) => {
    expect(expectedConfirmations(mult, n)).toBe(k);
  });

  it.each([
    // c, k, min, max, expected
    [0, 3, 2000, 30000, 30000],
    [1, 3, 2000, 30000, 16000],
    [2, 3, 2000, 30000, 7810],
    [3, 3, 2000, 30000, 2000],
    [4, 3, 2000, 30000, 2000],
    [0, 0, 2000, 30000, 2000],
    [1, 2, 8000, 48000, 22762],
    [2, 2, 8000, 48000, 8000],
  ])('lifeguard timeout: c=%i k=%i min=%i max=%i -> %i', (c, k, min, max, expected) => {
    expect(lifeguardSuspicionTimeoutMs(c, k, min, max)).toBe(expected);
  });

  it('awareness scales timeouts by score + 1', () => {
    expect(scaleByAwareness(500, 0)).toBe(500);
    expect(scaleByAwareness(500, 7)).toBe(4000);
  });

  it('first detection takes e/(e-1) periods on average in large clusters', () => {
    expect(expectedDetectionPeriods(2)).toBe(1);
    expect(expectedDetectionPeriods(10_000)).toBeCloseTo(Math.E / (Math.E - 1), 3);
    expect(expectedDetectionPeriods(100)).toBeGreaterThan(1.57);
    expect(expectedDetectionPeriods(100)).toBeLessThan(1.59);
    expect(detectionPeriodsQuantile(100, 0.99)).toBe(5);
    expect(detectionPeriodsQuantile(2, 0.99)).toBe(1);
  });
});
