import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from './virtual-scheduler';

describe('VirtualScheduler', () => {
  it('runs timers in (due, scheduling order) and moves the clock to each', () => {
    const s = new VirtualScheduler();
    const seen: string[] = [];
    s.setTimeout(() => seen.push(`b@${s.now()}`), 20);
    s.setTimeout(() => seen.push(`a@${s.now()}`), 10);
    s.setTimeout(() => seen.push(`c@${s.now()}`), 20);
    s.advance(15);
    expect(seen).toEqual(['a@10']);
    expect(s.now()).toBe(15);
    s.advance(10);
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
    expect(s.now()).toBe(25);
  });

  it('cancels timeouts and intervals', () => {
    const s = new VirtualScheduler();
    let ticks = 0;
    const h = s.setInterval(() => ticks++, 100);
    const t = s.setTimeout(() => (ticks += 1000), 50);
    s.clearTimeout(t);
    s.advance(350);
    expect(ticks).toBe(3);
    s.clearInterval(h);
    s.advance(1000);
    expect(ticks).toBe(3);
    expect(s.pendingCount).toBe(0);
  });

  it('runs callbacks scheduled by callbacks within the same advance', () => {
    const s = new VirtualScheduler();
    const seen: number[] = [];
    s.setTimeout(() => {
      seen.push(s.now());
      s.setTimeout(() => seen.push(s.now()), 5);
    }, 5);
    s.advance(10);
    expect(seen).toEqual([5, 10]);
  });

  it('runUntil stops when the condition holds', () => {
    const s = new VirtualScheduler();
    let done = false;
    s.setTimeout(() => (done = true), 1234);
    expect(s.runUntil(() => done, 10_000)).toBe(true);
    expect(s.now()).toBeGreaterThanOrEqual(1234);
    expect(s.now()).toBeLessThan(1250);
    expect(s.runUntil(() => false, 100)).toBe(false);
  });

  it('runUntilIdle drains one-shot timers', () => {
    const s = new VirtualScheduler();
    let n = 0;
    for (let i = 0; i < 100; i++) s.setTimeout(() => n++, i * 3);
    expect(s.runUntilIdle()).toBe(100);
    expect(n).toBe(100);
  });
});
