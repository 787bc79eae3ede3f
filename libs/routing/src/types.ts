import type { Clock, Rng } from '@drover/runtime';

/** What a policy sees of one worker. Load figures are mesh-wide when the mesh is on. */
export interface WorkerView {
  readonly id: string;
  readonly healthy: boolean;
  readonly circuitOpen: boolean;
  /** Requests in flight on this worker (this node's, plus the mesh's when shared). */
  inFlight(): number;
  /** From the worker's GetLoads, when known. */
  load(): { runningReqs: number; waitingReqs: number; queuedTokens: number; kvUsage: number } | undefined;
}

/** An immutable snapshot of the fleet plus prefix lookups; rebuilt on registry change, never per request. */
export interface RoutingView {
  readonly workers: readonly WorkerView[];
  /** Tokens of the prompt each worker already holds (approximate trees and/or exact KV indexes). */
  match(tokens: ArrayLike<number>): Map<string, number>;
}

export interface RouteRequest {
  tokens: ArrayLike<number>;
  headers?: Record<string, string | string[] | undefined>;
  user?: string;
  /** Workers already tried by this request (retries never reuse them). */
  exclude?: ReadonlySet<string>;
}

export type RouteReason = 'cache_hit' | 'load_guard' | 'miss' | 'policy';

export interface RouteDecision {
  workerId: string;
  reason: RouteReason;
  /** Fraction of the prompt the chosen worker holds (0 when unknown). */
  matchRatio: number;
}

export interface RoutingPolicy {
  readonly name: string;
  /** Returns undefined when no worker is eligible. */
  select(view: RoutingView, request: RouteRequest, rng: Rng): RouteDecision | undefined;
}

export interface PolicyDeps {
  clock: Clock;
}
