import type { Clock, Rng } from '@drover/runtime';
import type { RoutingConfig } from '../config';
import { eligible, headerValue, powerOfTwo, workerById } from '../eligibility';
import type { RouteDecision, RouteRequest, RoutingPolicy, RoutingView } from '../types';

/** Sticky sessions by `x-session-id`: a session keeps its worker until idle for `stickyIdleMs`. */
export class ManualPolicy implements RoutingPolicy {
  readonly name = 'manual';
  private readonly sessions = new Map<string, { workerId: string; lastMs: number }>();

  constructor(private readonly config: RoutingConfig, private readonly clock: Clock) {}

  select(view: RoutingView, req: RouteRequest, rng: Rng): RouteDecision | undefined {
    const session = headerValue(req, 'x-session-id');
    const now = this.clock.now();
    if (session) {
      const s = this.sessions.get(session);
      if (s && now - s.lastMs <= this.config.stickyIdleMs) {
        const w = workerById(view.workers).get(s.workerId);
        if (w && eligible(w, req)) {
          s.lastMs = now;
          this.sessions.delete(session);
          this.sessions.set(session, s);
          return { workerId: w.id, reason: 'policy', matchRatio: 0 };
        }
      }
    }
    const w = powerOfTwo(view.workers, req, rng);
    if (!w) return undefined;
    if (session) {
      this.sessions.delete(session);
      this.sessions.set(session, { workerId: w.id, lastMs: now });
      if (this.sessions.size > this.config.maxStickySessions) this.sessions.delete(this.sessions.keys().next().value as string);
    }
    return { workerId: w.id, reason: 'policy', matchRatio: 0 };
  }
}
