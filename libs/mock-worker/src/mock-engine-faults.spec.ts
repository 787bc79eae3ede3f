import { describe, expect, it } from 'vitest';
import { SeededRng, VirtualScheduler } from '@drover/runtime';
import { MockEngine, type EngineInit, type EngineResult, type EngineSink } from './mock-engine';

interface Recorded {
  tokens: number[];
  complete?: EngineResult;
  error?: { code: number; message: string };
}

function engineWith(init: EngineInit): { s: VirtualScheduler; engine: MockEngine } {
  const s = new VirtualScheduler();
  const engine = new MockEngine({ clock: s, timers: s, rng: new SeededRng('faults') }, { decodeBaseMs: 5, decodePerRunningMs: 0, ...init });
  return { s, engine };
}

function sink(): { rec: Recorded; sink: EngineSink } {
  const rec: Recorded = { tokens: [] };
  return {
    rec,
    sink: {
      onTokens: (ids) => rec.tokens.push(...ids),
      onComplete: (r) => (rec.complete = r),
      onError: (code, message) => (rec.error = { code, message }),
    },
  };
}

const request = (requestId: string, maxNewTokens = 20) => ({ requestId, inputIds: [11, 12, 13, 14], maxNewTokens, ignoreEos: true });

describe('mock engine fault knobs', () => {
  it('stallAfterTokens: emits exactly N tokens, then hangs holding its slot without completing or spinning', () => {
    const { s, engine } = engineWith({ faults: { stallAfterTokens: 3 } });
    const a = sink();
    engine.submit(request('stall-a'), a.sink);
    s.runUntilIdle();
    expect(a.rec.tokens).toHaveLength(3);
    expect(a.rec.complete).toBeUndefined();
    expect(a.rec.error).toBeUndefined();
    expect(engine.runningCount).toBe(1);
    expect(s.pendingCount).toBe(0); // no step loop left running for a stalled request
    // Still hung much later.
    s.advance(60_000);
    expect(a.rec.tokens).toHaveLength(3);
    // Abort frees the slot and completes with what was generated.
    expect(engine.abort('stall-a')).toBe(true);
    expect(a.rec.complete).toMatchObject({ finishReason: 'abort', completionTokens: 3 });
    expect(engine.runningCount).toBe(0);
  });

  it('stallAfterTokens: a request that needs no more than N tokens finishes normally', () => {
    const { s, engine } = engineWith({ faults: { stallAfterTokens: 5 } });
    const a = sink();
    engine.submit(request('short', 5), a.sink);
    s.runUntilIdle();
    expect(a.rec.complete).toMatchObject({ finishReason: 'length', completionTokens: 5 });
    expect(engine.runningCount).toBe(0);
  });

  it('stallAfterTokens: stalled requests keep their slots, so later requests wait behind them', () => {
    const { s, engine } = engineWith({ maxRunning: 2, faults: { stallAfterTokens: 2 } });
    const [a, b, c] = [sink(), sink(), sink()];
    engine.submit(request('a'), a.sink);
    engine.submit(request('b'), b.sink);
    engine.submit(request('c'), c.sink);
    s.runUntilIdle();
    expect([a.rec.tokens.length, b.rec.tokens.length, c.rec.tokens.length]).toEqual([2, 2, 0]);
    expect([engine.runningCount, engine.waitingCount]).toEqual([2, 1]);
    // Turning the fault off lets the waiting request through once a slot is freed.
    engine.faults.stallAfterTokens = 0;
    engine.abort('a');
    s.runUntilIdle();
    expect(c.rec.complete).toMatchObject({ finishReason: 'length', completionTokens: 20 });
  });

  it('stallAfterTokens set at run time stalls requests already decoding', () => {
    const { s, engine } = engineWith({});
    const a = sink();
    engine.submit(request('late', 50), a.sink);
    s.runUntil(() => a.rec.tokens.length >= 4, 10_000, 1);
    engine.faults.stallAfterTokens = a.rec.tokens.length + 1;
    s.runUntilIdle();
    expect(a.rec.tokens).toHaveLength(engine.faults.stallAfterTokens);
    expect(a.rec.complete).toBeUndefined();
  });

  it('failRate 1: every request fails at admission with failStatus, nothing is queued', () => {
    const { s, engine } = engineWith({ faults: { failRate: 1, failStatus: 8 } });
    const a = sink();
    engine.submit(request('f'), a.sink);
    s.runUntilIdle();
    expect(a.rec.error).toEqual({ code: 8, message: 'injected failure' });
    expect(a.rec.tokens).toEqual([]);
    expect(engine.runningCount + engine.waitingCount).toBe(0);
  });

  it('failRate between 0 and 1 fails about that fraction of requests', () => {
    const { s, engine } = engineWith({ faults: { failRate: 0.3 } });
    const results = Array.from({ length: 400 }, (_, i) => {
      const r = sink();
      engine.submit(request(`r${i}`, 1), r.sink);
      return r.rec;
    });
    s.runUntilIdle();
    const failed = results.filter((r) => r.error).length;
    expect(failed).toBeGreaterThan(80);
    expect(failed).toBeLessThan(160);
    expect(results.filter((r) => r.complete).length).toBe(400 - failed);
  });
});
