import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '@drover/runtime';
import { Awareness } from './awareness';
import { Suspicion } from './suspicion';

describe('Suspicion (Lifeguard dynamic timeout)', () => {
  const world = () => new VirtualScheduler();

  it('fires at the maximum without confirmations', () => {
    const s = world();
    let firedAt = -1;
    new Suspicion({ clock: s, timers: s }, 'a', 2, 8_000, 48_000, () => (firedAt = s.now()));
    s.advance(47_999);
    expect(firedAt).toBe(-1);
    s.advance(1);
    expect(firedAt).toBe(48_000);
  });

  it('shrinks towards the minimum as independent members confirm', () => {
    const s = world();
    let firedAt = -1;
    const susp = new Suspicion({ clock: s, timers: s }, 'a', 2, 8_000, 48_000, () => (firedAt = s.now()));
    expect(susp.confirm('a')).toBe(false); // the accuser does not confirm itself
    s.advance(1_000);
    expect(susp.confirm('b')).toBe(true);
    expect(susp.confirm('b')).toBe(false); // each confirmer counts once
    expect(susp.timeoutMs).toBe(22_762);
    s.advance(1_000);
    expect(susp.confirm('c')).toBe(true);
    expect(susp.confirm('d')).toBe(false); // k reached
    s.advance(5_999);
    expect(firedAt).toBe(-1);
    s.advance(1);
    expect(firedAt).toBe(8_000);
  });

  it('fires at once when a late confirmation puts the deadline in the past', () => {
    const s = world();
    let fired = 0;
    const susp = new Suspicion({ clock: s, timers: s }, 'a', 1, 1_000, 10_000, () => fired++);
    s.advance(5_000);
    susp.confirm('b');
    expect(fired).toBe(1);
    s.advance(10_000);
    expect(fired).toBe(1);
  });

  it('uses the minimum at once when no confirmations are expected (tiny clusters)', () => {
    const s = world();
    let firedAt = -1;
    new Suspicion({ clock: s, timers: s }, 'a', 0, 3_000, 18_000, () => (firedAt = s.now()));
    s.advance(20_000);
    expect(firedAt).toBe(3_000);
  });

  it('cancel stops it', () => {
    const s = world();
    let fired = 0;
    new Suspicion({ clock: s, timers: s }, 'a', 2, 1, 2, () => fired++).cancel();
    s.advance(10);
    expect(fired).toBe(0);
  });
});

describe('Awareness (Lifeguard local health)', () => {
  it('scales timeouts by score + 1 within [0, max - 1]', () => {
    const a = new Awareness(8);
    a.applyDelta(-1);
    expect(a.score).toBe(0);
    expect(a.scale(500)).toBe(500);
    a.applyDelta(3);
    expect(a.scale(500)).toBe(2000);
    a.applyDelta(100);
    expect(a.score).toBe(7);
    expect(a.scale(500)).toBe(4000);
  });
});
