import type { Clock, Rng } from '@drover/runtime';

/** What a policy sees of one worker. Load figures are mesh-wide when the mesh is on. */
export interface WorkerView {
  readonly id: string;
  readonly healthy: boolean;
  readonly circuitOpen: boolean;
  /** Requests in flight on this worker (this node's, plus the mesh's when shared). */
  inFlight(): number;
  /**
   * Of those, the ones that have not received their first token yet (waiting for or in prefill at
   * the engine), mesh-wide when shared. Optional: a view without it scores in-flight only.
   */
  awaitingFirstToken?(): number;
  /** From the worker's GetLoads, when known. */
  load(): { runningReqs: number; waitingReqs: number; queuedTokens: number; kvUsage: number } | undefined;
}

/**
 * Where prefixes are cached: the gateway implements it over its prefix trees (approximate, fed
 * by routing decisions, mesh-wide) and KV block indexes (exact, for workers streaming KV events),
 * preferring the exact figure for a worker that has one.
 */
export interface PrefixIndex {
  /** Tokens of the prompt each worker already holds, from the prompt's start (workers with 0 may be left out). */
  match(tokens: ArrayLike<number>): Map<string, number>;
}

/**
 * An immutable snapshot of the fleet plus prefix lookups; rebuilt on registry change, never per
 * request (policies cache per-snapshot indexes by the identity of `workers`).
 */
export interface RoutingView extends PrefixIndex {
  readonly workers: readonly WorkerView[];
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
