import type { Rng } from '@drover/runtime';
import type { RouteRequest, WorkerView } from './types';

export function eligible(w: WorkerView, req: RouteRequest): boolean {
  return w.healthy && !w.circuitOpen && !(req.exclude?.has(w.id) ?? false);
}

/**
 * A load score: in-flight requests, plus the ones not yet past prefill once more, plus the
 * engine's queued tokens and KV pressure when reported.
 *
 * A request still in prefill costs a newcomer more than a decoding one (it waits behind whole
 * prefill chunks, not one decode step), so it counts twice. Two figures measure that queue: the
 * gateways' own count of requests awaiting their first token (fresh, mesh-wide) and the engine's
 * `waitingReqs` (polled with health checks, but it also sees traffic from outside the mesh). They
 * overlap, so the larger one counts, not their sum.
 */
export function loadScore(w: WorkerView): number {
  const l = w.load();
  const queued = Math.max(w.awaitingFirstToken?.() ?? 0, l ? l.waitingReqs : 0);
  return w.inFlight() + queued + (l ? l.queuedTokens / 1024 + l.kvUsage * 2 : 0);
}

/**
 * A uniformly random eligible worker without copying the fleet: random probes first, then one
 * scan from a random offset (cost stays O(1) expected when most workers are eligible).
 */
export function sampleEligible(workers: readonly WorkerView[], req: RouteRequest, rng: Rng, skip?: WorkerView): WorkerView | undefined {
  const n = workers.length;
  if (n === 0) return undefined;
  for (let tries = 0; tries < 8; tries++) {
    const w = workers[rng.int(n)];
    if (w !== skip && eligible(w, req)) return w;
  }
  const start = rng.int(n);
  for (let k = 0; k < n; k++) {
    const w = workers[(start + k) % n];
    if (w !== skip && eligible(w, req)) return w;
  }
  return undefined;
}

/** Power of two choices on the load score (random tie-break through the sampling). */
export function powerOfTwo(workers: readonly WorkerView[], req: RouteRequest, rng: Rng): WorkerView | undefined {
  const a = sampleEligible(workers, req, rng);
  if (!a) return undefined;
  const b = sampleEligible(workers, req, rng, a) ?? a;
  return loadScore(b) < loadScore(a) ? b : a;
}

const byIdCache = new WeakMap<readonly WorkerView[], Map<string, WorkerView>>();

/** id → worker for a fleet snapshot, built once per snapshot (so lookups cost O(1) per request). */
export function workerById(workers: readonly WorkerView[]): Map<string, WorkerView> {
  let byId = byIdCache.get(workers);
  if (!byId) {
    byId = new Map(workers.map((w) => [w.id, w] as const));
    byIdCache.set(workers, byId);
  }
  return byId;
}

/**
 * Visits the eligible workers a load statistic is taken over: the whole fleet when it has at most
 * `sampleSize` workers, else `sampleSize` random probes (so per-request cost is bounded by the
 * sample size, not the fleet size).
 */
export function forEachLoadSample(workers: readonly WorkerView[], req: RouteRequest, rng: Rng, sampleSize: number, visit: (w: WorkerView) => void): void {
  const n = workers.length;
  if (n <= sampleSize) {
    for (const w of workers) if (eligible(w, req)) visit(w);
    return;
  }
  for (let k = 0; k < sampleSize; k++) {
    const w = workers[rng.int(n)];
    if (eligible(w, req)) visit(w);
  }
}

export function headerValue(req: RouteRequest, name: string): string | undefined {
  const v = req.headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}
