import { createHash } from 'node:crypto';
import type { Rng } from '@drover/runtime';
import type { RoutingConfig } from '../config';
import { eligible, forEachLoadSample, headerValue, loadScore, powerOfTwo, sampleEligible } from '../eligibility';
import type { RouteDecision, RouteRequest, RoutingPolicy, RoutingView, WorkerView } from '../types';

function hash32(text: string): number {
  return createHash('md5').update(text).digest().readUInt32BE(0);
}

/** A consistent-hash ring built once per fleet snapshot (views are immutable, so cache by identity). */
class Ring {
  private readonly points: { at: number; worker: WorkerView }[] = [];

  constructor(workers: readonly WorkerView[], virtualNodes: number) {
    for (const w of workers) for (let v = 0; v < virtualNodes; v++) this.points.push({ at: hash32(`${w.id}#${v}`), worker: w });
    this.points.sort((a, b) => a.at - b.at);
  }

  /** Walks clockwise from the key's point to the first worker `accept` takes. */
  find(key: number, accept: (w: WorkerView) => boolean): WorkerView | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.points[mid].at < key) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Set<WorkerView>();
    for (let k = 0; k < n; k++) {
      const w = this.points[(lo + k) % n].worker;
      if (seen.has(w)) continue;
      seen.add(w);
      if (accept(w)) return w;
    }
    return undefined;
  }
}

abstract class RingPolicy implements RoutingPolicy {
  abstract readonly name: string;
  private readonly rings = new WeakMap<readonly WorkerView[], Ring>();

  constructor(protected readonly config: RoutingConfig) {}

  protected ring(view: RoutingView): Ring {
    let r = this.rings.get(view.workers);
    if (!r) {
      r = new Ring(view.workers, this.config.virtualNodes);
      this.rings.set(view.workers, r);
    }
    return r;
  }

  abstract select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined;
}

/** Sticky by key: header `x-drover-routing-key`, else the `user` field; random without a key. */
export class ConsistentHashPolicy extends RingPolicy {
  readonly name = 'consistent_hash';

  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    const key = headerValue(req, 'x-drover-routing-key') ?? req.user;
    if (!key) {
      const w = powerOfTwo(view.workers, req, rng);
      return w ? { workerId: w.id, reason: 'policy', matchRatio: 0 } : undefined;
    }
    const w = this.ring(view).find(hash32(key), (x) => eligible(x, req));
    return w ? { workerId: w.id, reason: 'policy', matchRatio: 0 } : undefined;
  }
}

/**
 * The first `prefixHashTokens` tokens pick a point on the ring; a worker above
 * `boundedLoadFactor` × the mean load is skipped (consistent hashing with bounded loads).
 */
export class PrefixHashPolicy extends RingPolicy {
  readonly name = 'prefix_hash';

  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    const k = Math.min(this.config.prefixHashTokens, req.tokens.length);
    const key = hash32(Array.prototype.slice.call(req.tokens, 0, k).join(','));
    // Mean load over the eligible fleet (sampled on large fleets).
    let total = 0;
    let count = 0;
    forEachLoadSample(view.workers, req, rng, this.config.loadSampleSize, (w) => {
      total += loadScore(w);
      count++;
    });
    if (count === 0 && !sampleEligible(view.workers, req, rng)) return undefined;
    count = Math.max(1, count);
    const cap = Math.max(1, ((total + 1) / count) * this.config.boundedLoadFactor);
    const w = this.ring(view).find(key, (x) => eligible(x, req) && loadScore(x) < cap) ?? this.ring(view).find(key, (x) => eligible(x, req));
    return w ? { workerId: w.id, reason: 'policy', matchRatio: 0 } : undefined;
  }
}
