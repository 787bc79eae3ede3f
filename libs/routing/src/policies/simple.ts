import type { Rng } from '@drover/runtime';
import { eligible, loadScore, powerOfTwo, sampleEligible } from '../eligibility';
import type { RouteDecision, RouteRequest, RoutingPolicy, RoutingView } from '../types';

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

/** The least loaded eligible worker (a full scan: this policy's point is the exact minimum). */
export class LeastLoadPolicy implements RoutingPolicy {
  readonly name = 'least_load';
  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    let best: { id: string; score: number; tie: number } | undefined;
    for (const w of view.workers) {
      if (!eligible(w, req)) continue;
      const score = loadScore(w);
      const tie = rng.next();
      if (!best || score < best.score || (score === best.score && tie < best.tie)) best = { id: w.id, score, tie };
    }
    return decision(best?.id);
  }
}
