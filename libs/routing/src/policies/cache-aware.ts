import type { Rng } from '@drover/runtime';
import type { RoutingConfig } from '../config';
import { eligible, loadScore, powerOfTwo, workerById } from '../eligibility';
import type { RouteDecision, RouteRequest, RoutingPolicy, RoutingView, WorkerView } from '../types';

/**
 * Send a request where its prefix is cached, unless that worker is too busy for this request.
 * - Affinity: the eligible worker holding the longest prefix wins when it covers at least
 *   `cacheThreshold` of the prompt (ties: the less loaded).
 * - Per-request load guard: the winner is overridden when it carries more than
 *   `balanceAbsThreshold` more and `balanceRelThreshold`× the load of another candidate. The
 *   override first goes to the least loaded worker that also holds at least `cacheThreshold` of
 *   the prompt (a shared system prompt, say), so balancing costs only the uncached tail; failing
 *   that, to a lightly loaded worker found by two random choices (not a fleet-wide scan).
 * - Miss: power of two choices, so new prefixes spread instead of piling on one worker.
 */
export class CacheAwarePolicy implements RoutingPolicy {
  readonly name = 'cache_aware';

  constructor(private readonly config: RoutingConfig) {}

  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    const total = req.tokens.length;
    const matches = total > 0 ? view.match(req.tokens) : new Map<string, number>();
    let best: WorkerView | undefined;
    let bestLen = 0;
    // The least loaded worker that still holds enough of the prompt to count as a hit.
    let warm: WorkerView | undefined;
    const minLen = this.config.cacheThreshold * total;
    if (matches.size > 0) {
      const byId = workerById(view.workers);
      for (const [id, len] of matches) {
        const w = byId.get(id);
        if (!w || !eligible(w, req)) continue;
        if (len > bestLen || (len === bestLen && best && loadScore(w) < loadScore(best))) {
          best = w;
          bestLen = len;
        }
        if (len >= minLen && (!warm || loadScore(w) < loadScore(warm))) warm = w;
      }
    }
    const ratio = total > 0 ? bestLen / total : 0;
    if (best && ratio >= this.config.cacheThreshold) {
      if (warm && warm !== best && this.tooBusy(loadScore(best), loadScore(warm))) {
        return { workerId: warm.id, reason: 'load_guard', matchRatio: (matches.get(warm.id) ?? 0) / total };
      }
      const light = powerOfTwo(view.workers, req, rng);
      if (light && light !== best) {
        const busy = loadScore(best);
        const idle = loadScore(light);
        if (busy - idle > this.config.coldBalanceAbsThreshold && busy > idle * this.config.balanceRelThreshold) {
          return { workerId: light.id, reason: 'load_guard', matchRatio: (matches.get(light.id) ?? 0) / total };
        }
      }
      return { workerId: best.id, reason: 'cache_hit', matchRatio: ratio };
    }
    const pick = powerOfTwo(view.workers, req, rng);
    return pick ? { workerId: pick.id, reason: 'miss', matchRatio: total > 0 ? (matches.get(pick.id) ?? 0) / total : 0 } : undefined;
  }

  private tooBusy(busy: number, other: number): boolean {
    return busy - other > this.config.balanceAbsThreshold && busy > other * this.config.balanceRelThreshold;
  }

}
