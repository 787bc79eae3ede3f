/**
 * The SWIM and Lifeguard formulas, pure so they can be table-tested. The constants behind them live
 * in config.ts; this file only computes.
 */

/**
 * Minimum suspicion timeout: `mult · max(1, log10(max(1, n))) · probeInterval`. Grows with the
 * logarithm of the cluster size because gossip needs O(log n) rounds to reach everyone (and so to
 * let a wrongly suspected node hear of it and refute).
 */
export function suspicionTimeoutMs(suspicionMult: number, clusterSize: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, clusterSize)));
  return Math.round(suspicionMult * nodeScale * probeIntervalMs);
}

/**
 * How many times a gossip message is piggybacked before it is dropped: `mult · ⌈log10(n + 1)⌉`.
 * (The SWIM paper's λ·log n; the base only rescales λ. memberlist uses log10, so we do too.)
 */
export function retransmitLimit(retransmitMult: number, clusterSize: number): number {
  return retransmitMult * Math.ceil(Math.log10(clusterSize + 1));
}

/**
 * Push-pull interval scaled for large clusters so full-state traffic does not grow without bound:
 * unchanged up to 32 nodes, then `interval · (⌈log2 n − log2 32⌉ + 1)`.
 */
export function pushPullIntervalMs(baseIntervalMs: number, clusterSize: number): number {
  const threshold = 32;
  if (clusterSize <= threshold) return baseIntervalMs;
  const multiplier = Math.ceil(Math.log2(clusterSize) - Math.log2(threshold)) + 1;
  return baseIntervalMs * multiplier;
}

/**
 * Lifeguard's expected number of independent confirmations `k` before a suspicion reaches its
 * minimum timeout: `mult − 2`, or 0 when the cluster is too small to supply that many other
 * suspecters (n − 2 < k).
 */
export function expectedConfirmations(suspicionMult: number, clusterSize: number): number {
  const k = suspicionMult - 2;
  return clusterSize - 2 < k ? 0 : Math.max(0, k);
}

/**
 * Lifeguard's dynamic suspicion timeout after `confirmations` independent confirmations: starts at
 * `max` and falls logarithmically to `min` when `k` confirmations arrived:
 * `max(min, max − (max − min) · log(c + 1) / log(k + 1))`.
 */
export function lifeguardSuspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  const timeout = maxMs - fraction * (maxMs - minMs);
  return Math.max(minMs, Math.floor(timeout));
}

/** Lifeguard local health: a timeout scaled by `(score + 1)` where score ∈ [0, max − 1]. */
export function scaleByAwareness(timeoutMs: number, score: number): number {
  return timeoutMs * (score + 1);
}

/**
 * Probability that, in one protocol period, none of the n−1 live members probes a given crashed
 * member when each picks one of its n−1 peers uniformly: `(1 − 1/(n−1))^(n−1)`, which tends to 1/e.
 */
export function missProbabilityPerPeriod(clusterSize: number): number {
  const others = clusterSize - 1;
  if (others <= 1) return 0;
  return Math.pow(1 - 1 / others, others);
}

/**
 * Expected protocol periods until a crashed member is first probed: `1 / (1 − miss)`, which tends
 * to e/(e−1) ≈ 1.58 (the SWIM paper's figure). Round-robin target order only improves on it.
 */
export function expectedDetectionPeriods(clusterSize: number): number {
  if (clusterSize < 2) return Number.POSITIVE_INFINITY;
  return 1 / (1 - missProbabilityPerPeriod(clusterSize));
}

/** Periods within which a crashed member is first probed with probability `quantile`: `⌈log(1 − q) / log(miss)⌉`. */
export function detectionPeriodsQuantile(clusterSize: number, quantile: number): number {
  const miss = missProbabilityPerPeriod(clusterSize);
  if (miss === 0) return 1;
  return Math.ceil(Math.log(1 - quantile) / Math.log(miss));
}
