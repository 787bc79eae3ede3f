import { describe, expect, it } from 'vitest';
import { SeededRng } from './rng';

describe('SeededRng', () => {
  it('replays the same stream from the same seed', () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const xs = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('forks by label independently of draws made on the parent', () => {
    const a = new SeededRng('s');
    const b = new SeededRng('s');
    for (let i = 0; i < 10; i++) b.next();
    expect(a.fork('swim:node-1').next()).toBe(b.fork('swim:node-1').next());
    expect(a.fork('swim:node-1').next()).not.toBe(a.fork('swim:node-2').next());
  });

  it('int and pick stay in range and cover every value', () => {
    const r = new SeededRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = r.int(5);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(5);
      seen.add(v);
    }
    expect(seen.size).toBe(5);
  });

  it('exponential has roughly the requested mean', () => {
    const r = new SeededRng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += r.exponential(10);
    expect(sum / 20000).toBeGreaterThan(9.5);
    expect(sum / 20000).toBeLessThan(10.5);
  });
});
