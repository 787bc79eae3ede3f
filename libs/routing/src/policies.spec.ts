import { describe, expect, it } from 'vitest';
import { SeededRng, VirtualScheduler } from '@drover/runtime';
import { createPolicy, POLICY_NAMES } from './create-policy';
import type { RouteRequest, RoutingView, WorkerView } from './types';

function worker(id: string, inFlight = 0, extra: Partial<{ healthy: boolean; circuitOpen: boolean }> = {}): WorkerView & { n: number } {
  const w = { id, healthy: extra.healthy ?? true, circuitOpen: extra.circuitOpen ?? false, n: inFlight, inFlight: () => w.n, load: () => undefined };
  return w;
}

function view(workers: WorkerView[], matches: Record<string, number> = {}): RoutingView {
  return { workers, match: () => new Map(Object.entries(matches)) };
}

const deps = { clock: new VirtualScheduler() };
const tokens = Array.from({ length: 100 }, (_, i) => i);
const req = (extra: Partial<RouteRequest> = {}): RouteRequest => ({ tokens, ...extra });

describe('routing policies', () => {
  it.each(POLICY_NAMES)('%s never picks an unhealthy, circuit-open or excluded worker', (name) => {
    const policy = createPolicy(name, {}, deps);
    const rng = new SeededRng(`never-${name}`);
    const ws = [worker('bad', 0, { healthy: false }), worker('open', 0, { circuitOpen: true }), worker('tried'), worker('ok')];
    const v = view(ws, { bad: 100, open: 100, tried: 100 });
    for (let i = 0; i < 200; i++) {
      const d = policy.select(v, req({ exclude: new Set(['tried']), headers: { 'x-session-id': `s${i % 3}`, 'x-drover-routing-key': `k${i}` }, tokens: Array.from({ length: 50 }, (_, k) => k + i) }), rng);
      expect(d?.workerId).toBe('ok');
    }
    expect(policy.select(view([worker('bad', 0, { healthy: false })]), req(), rng)).toBeUndefined();
  });

  it('cache_aware follows the longest prefix above the threshold', () => {
    const p = createPolicy('cache_aware', { cacheThreshold: 0.5 }, deps);
    const rng = new SeededRng(1);
    const ws = [worker('a'), worker('b'), worker('c')];
    expect(p.select(view(ws, { a: 20, b: 80 }), req(), rng)).toEqual({ workerId: 'b', reason: 'cache_hit', matchRatio: 0.8 });
    expect(p.select(view(ws, { a: 20, b: 30 }), req(), rng)?.reason).toBe('miss');
  });

  it('cache_aware load guard overrides affinity only when the holder is much busier', () => {
    const p = createPolicy('cache_aware', { cacheThreshold: 0.5, balanceAbsThreshold: 10, balanceRelThreshold: 1.5 }, deps);
    const rng = new SeededRng(2);
    const busy = worker('busy', 40);
    const idle = worker('idle', 0);
    const d = p.select(view([busy, idle], { busy: 90 }), req(), rng);
    expect(d?.workerId).toBe('idle');
    expect(d?.reason).toBe('load_guard');
    busy.n = 8;
    expect(p.select(view([busy, idle], { busy: 90 }), req(), rng)?.workerId).toBe('busy');
  });

  it('cache_aware spreads misses over the fleet (never always worker 0)', () => {
    const p = createPolicy('cache_aware', {}, deps);
    const rng = new SeededRng(3);
    const ws = Array.from({ length: 8 }, (_, i) => worker(`w${i}`));
    const counts = new Map<string, number>();
    for (let i = 0; i < 800; i++) {
      const d = p.select(view(ws), req(), rng)!;
      counts.set(d.workerId, (counts.get(d.workerId) ?? 0) + 1);
      ws.find((w) => w.id === d.workerId)!.n++;
    }
    expect(counts.size).toBe(8);
    expect(Math.max(...counts.values())).toBeLessThan(130);
  });

  it('round_robin cycles; least_load picks the minimum', () => {
    const rr = createPolicy('round_robin', {}, deps);
    const rng = new SeededRng(4);
    const ws = [worker('a', 5), worker('b', 1), worker('c', 3)];
    expect([0, 1, 2, 3].map(() => rr.select(view(ws), req(), rng)!.workerId)).toEqual(['a', 'b', 'c', 'a']);
    expect(createPolicy('least_load', {}, deps).select(view(ws), req(), rng)!.workerId).toBe('b');
  });

  it('consistent_hash is stable per key and moves few keys when a worker leaves', () => {
    const p = createPolicy('consistent_hash', {}, deps);
    const rng = new SeededRng(5);
    const ws = Array.from({ length: 5 }, (_, i) => worker(`w${i}`));
    const v = view(ws);
    const before = Array.from({ length: 200 }, (_, i) => p.select(v, req({ headers: { 'x-drover-routing-key': `user-${i}` } }), rng)!.workerId);
    const again = Array.from({ length: 200 }, (_, i) => p.select(v, req({ headers: { 'x-drover-routing-key': `user-${i}` } }), rng)!.workerId);
    expect(again).toEqual(before);
    const fewer = view(ws.slice(0, 4));
    const after = Array.from({ length: 200 }, (_, i) => p.select(fewer, req({ user: undefined, headers: { 'x-drover-routing-key': `user-${i}` } }), rng)!.workerId);
    const moved = after.filter((w, i) => w !== before[i]).length;
    expect(moved).toBe(before.filter((w) => w === 'w4').length);
  });

  it('prefix_hash keeps a prefix on one worker but bounds its load at 1.25x the mean', () => {
    const p = createPolicy('prefix_hash', { boundedLoadFactor: 1.25 }, deps);
    const rng = new SeededRng(6);
    const ws = Array.from({ length: 4 }, (_, i) => worker(`w${i}`));
    const first = p.select(view(ws), req(), rng)!.workerId;
    expect(p.select(view(ws), req(), rng)!.workerId).toBe(first);
    ws.find((w) => w.id === first)!.n = 10;
    expect(p.select(view(ws), req(), rng)!.workerId).not.toBe(first);
  });

  it('manual keeps a session on its worker until idle', () => {
    const clock = new VirtualScheduler();
    const p = createPolicy('manual', { stickyIdleMs: 1000 }, { clock });
    const rng = new SeededRng(7);
    const ws = Array.from({ length: 6 }, (_, i) => worker(`w${i}`));
    const first = p.select(view(ws), req({ headers: { 'x-session-id': 'abc' } }), rng)!.workerId;
    for (let i = 0; i < 20; i++) {
      clock.advance(500);
      expect(p.select(view(ws), req({ headers: { 'x-session-id': 'abc' } }), rng)!.workerId).toBe(first);
    }
  });
});
