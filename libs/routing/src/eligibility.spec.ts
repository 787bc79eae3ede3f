import { describe, expect, it } from 'vitest';
import { SeededRng, VirtualScheduler } from '@drover/runtime';
import { createPolicy } from './create-policy';
import { loadScore } from './eligibility';
import type { WorkerView } from './types';

type Engine = { runningReqs: number; waitingReqs: number; queuedTokens: number; kvUsage: number };

function worker(id: string, inFlight: number, awaiting?: number, engine?: Engine): WorkerView {
  return { id, healthy: true, circuitOpen: false, inFlight: () => inFlight, awaitingFirstToken: awaiting === undefined ? undefined : () => awaiting, load: () => engine };
}

describe('loadScore', () => {
  const engine = (waitingReqs: number): Engine => ({ runningReqs: 0, waitingReqs, queuedTokens: 2048, kvUsage: 0.5 });
  it.each([
    ['in flight only, nothing else known', worker('w', 3), 3],
    ['awaiting first token counts once more', worker('w', 3, 2), 5],
    ['a view without the count scores as before', worker('w', 3, undefined, engine(2)), 3 + 2 + 2 + 1],
    ['gateway count and engine queue overlap: the larger counts (gateway)', worker('w', 3, 4, engine(1)), 3 + 4 + 2 + 1],
    ['gateway count and engine queue overlap: the larger counts (engine, traffic from outside the mesh)', worker('w', 3, 1, engine(5)), 3 + 5 + 2 + 1],
  ])('%s', (_what, w, score) => {
    expect(loadScore(w)).toBe(score);
  });

  it('least_load prefers the worker whose requests are past prefill at equal in-flight', () => {
    const policy = createPolicy('least_load', {}, { clock: new VirtualScheduler() });
    const ws = [worker('prefilling', 2, 2), worker('decoding', 2, 0)];
    const rng = new SeededRng('awaiting');
    for (let i = 0; i < 20; i++) expect(policy.select({ workers: ws, match: () => new Map() }, { tokens: [1, 2, 3] }, rng)?.workerId).toBe('decoding');
  });
});
