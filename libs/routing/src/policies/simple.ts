import type { Rng } from '@drover/runtime';
import type { RoutingConfig } from '../config';
import { eligible, forEachLoadSample, loadScore, powerOfTwo, sampleEligible } from '../eligibility';
import type { RouteDecision, RouteRequest, RoutingPolicy, RoutingView, WorkerView } from '../types';

const decision = (workerId: string | undefined): RouteDecision | undefined => (workerId ? { workerId, reason: 'policy', matchRatio: 0 } : undefined);

export class RoundRobinPolicy implements RoutingPolicy {
  readonly name = 'round_robin';
  private next = 0;

  select(view: RoutingView, req: RouteRequest): RouteDecision | undefined {
    const n = view.workers.length;
    for (let k = 0; k < n; k++) {
      const w = view.workers[(this.next + k) % n];
      if (eligible(w, req)) {
        this.next = (this.next + k + 1) % n;
        return decision(w.id);
      }
    }
    return undefined;
  }
}

export class RandomPolicy implements RoutingPolicy {
  readonly name = 'random';
  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    return decision(sampleEligible(view.workers, req, rng)?.id);
  }
}

export class PowerOfTwoPolicy implements RoutingPolicy {
  readonly name = 'power_of_two';
  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    return decision(powerOfTwo(view.workers, req, rng)?.id);
  }
}

/**
 * The least loaded eligible worker (in-flight requests, plus the engine's queue and KV usage from
 * GetLoads): exact up to `loadSampleSize` workers, the least loaded of that many random probes
 * beyond. Ties are broken at random, never by position.
 */
export class LeastLoadPolicy implements RoutingPolicy {
  readonly name = 'least_load';
  constructor(private readonly config: RoutingConfig) {}

  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    let best: WorkerView | undefined;
    let bestScore = 0;
    let ties = 0;
    forEachLoadSample(view.workers, req, rng, this.config.loadSampleSize, (w) => {
      const score = loadScore(w);
      if (!best || score < bestScore) {
        best = w;
        bestScore = score;
        ties = 1;
      } else if (score === bestScore && rng.int(++ties) === 0) best = w; // reservoir: uniform among ties
    });
    // A sample that found nothing eligible falls back to one scan for any eligible worker.
    return decision((best ?? sampleEligible(view.workers, req, rng))?.id);
  }
}
