/** Every routing threshold, named, with its default (the gateway exposes each as a flag). */
export interface RoutingConfig {
  /** cache_aware: a worker wins on affinity when it holds at least this fraction of the prompt. */
  cacheThreshold: number;
  /** cache_aware load guard: override affinity when the best worker has this many more in-flight requests than the least loaded… */
  balanceAbsThreshold: number;
  /** …and more than this multiple of the least loaded's. */
  balanceRelThreshold: number;
  /**
   * cache_aware load guard, when no other worker holds enough of the prompt: move to a cold worker
   * only past this many more in-flight requests (the move costs a full prefill, so the margin is
   * wider than `balanceAbsThreshold`; when only that one is set, this defaults to twice it).
   */
  coldBalanceAbsThreshold: number;
  /** prefix_hash: tokens of the prompt that form the key. */
  prefixHashTokens: number;
  /** prefix_hash / consistent_hash: bounded load, as a multiple of the mean in-flight. */
  boundedLoadFactor: number;
  /** consistent_hash / prefix_hash: virtual nodes per worker on the ring. */
  virtualNodes: number;
  /**
   * least_load / prefix_hash: fleets up to this size are scanned exactly; larger ones are sampled
   * this many times per request (per-request cost stays bounded whatever the fleet size).
   */
  loadSampleSize: number;
  /** manual: a sticky session forgets its worker after this long without requests. */
  stickyIdleMs: number;
  /** manual: sticky sessions remembered at most. */
  maxStickySessions: number;
}

export const DEFAULT_ROUTING_CONFIG: RoutingConfig = {
  cacheThreshold: 0.3,
  balanceAbsThreshold: 32,
  balanceRelThreshold: 1.5,
  coldBalanceAbsThreshold: 64,
  prefixHashTokens: 256,
  boundedLoadFactor: 1.25,
  virtualNodes: 100,
  loadSampleSize: 32,
  stickyIdleMs: 30 * 60_000,
  maxStickySessions: 100_000,
};
