import type { NodeIdentity } from './identity';
import type { Keyring } from './keyring';
import { pushPullIntervalMs, retransmitLimit, suspicionTimeoutMs } from './math';

/**
 * Every timing of the protocol, named, with the formula that uses it. Defaults follow
 * hashicorp/memberlist's DefaultLANConfig; presets change only what differs.
 */
export interface SwimTimings {
  /** One member is probed per period (randomised round-robin). */
  probeIntervalMs: number;
  /** Wait for a direct ack before asking `indirectChecks` others; scaled by local health (Lifeguard). */
  probeTimeoutMs: number;
  /** k members asked to ping-req a target that missed its direct ack. */
  indirectChecks: number;
  /** Suspicion minimum = suspicionMult · max(1, log10 n) · probeInterval (math.suspicionTimeoutMs). */
  suspicionMult: number;
  /** Suspicion maximum = suspicionMaxTimeoutMult · minimum; Lifeguard shrinks towards the minimum with confirmations. */
  suspicionMaxTimeoutMult: number;
  /** Gossip is retransmitted retransmitMult · ⌈log10(n + 1)⌉ times (math.retransmitLimit). */
  retransmitMult: number;
  /** Queued gossip is also sent on its own every gossipInterval to gossipNodes random members. */
  gossipIntervalMs: number;
  gossipNodes: number;
  /** Dead and left members still receive gossip (so a wrongly declared node learns and refutes) for this long, then are reaped from the list. */
  gossipToTheDeadMs: number;
  /** Full-state anti-entropy with one random member, scaled above 32 nodes (math.pushPullIntervalMs). */
  pushPullIntervalMs: number;
  /** Lifeguard local-health score ceiling: timeouts scale by (score + 1) ≤ this. */
  awarenessMaxMultiplier: number;
  /** A dead (not left) member is retried by push-pull this often, which heals partitions. */
  reconnectIntervalMs: number;
  /** A reaped member's tombstone (its last incarnation) is kept this long so old rumours cannot resurrect it. */
  tombstoneTtlMs: number;
  /** Deadline of one stream (push-pull) exchange. */
  streamTimeoutMs: number;
  /**
   * Also probe over the stream path (TCP) when the direct ack is missed, in parallel with the
   * indirect probes (memberlist's TCP fallback ping): lost datagrams alone then never cause a
   * suspicion, only an unreachable member does.
   */
  streamFallbackProbe: boolean;
}

/** Size caps (wire.ts enforces them when decoding). */
export interface SwimLimits {
  /** Largest datagram we build (fits an Ethernet MTU with IP/UDP headers). */
  maxPacketBytes: number;
  /** Largest stream message we accept. */
  maxStreamBytes: number;
  /** Largest member metadata (HTTP address, sync address, version). */
  maxMetadataBytes: number;
  /** Broadcast queue bound; the most-transmitted items are dropped first on overflow. */
  maxQueuedBroadcasts: number;
}

export interface SwimConfig extends SwimTimings, SwimLimits {
  /** Unique node name (identity across restarts; the address may change). */
  name: string;
  /** Address advertised to peers; defaults to the transport's localAddress. */
  advertiseAddress?: string;
  metadata?: Uint8Array;
  /** Cluster key(s): when set, every packet is AES-256-GCM sealed and unsealed packets are dropped. */
  keyring?: Keyring;
  /**
   * This node's identity (named `name`): when set, every message carries its originator's proof
   * and a message is accepted only from the node it claims to come from (identity.ts).
   */
  identity?: NodeIdentity;
  /**
   * Deliberately broken behaviour for mesh-sim's planted-bug check (a chaos suite must catch it).
   * Never set in production.
   */
  plantedBugs?: { noRefutation?: boolean };
}

export const LAN_TIMINGS: Readonly<SwimTimings> = Object.freeze({
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  awarenessMaxMultiplier: 8,
  reconnectIntervalMs: 10_000,
  tombstoneTtlMs: 24 * 3600_000,
  streamTimeoutMs: 10_000,
  streamFallbackProbe: true,
});

/** Loopback / single-host preset: everything ~5x faster (used by tests on real sockets). */
export const LOCAL_TIMINGS: Readonly<SwimTimings> = Object.freeze({
  ...LAN_TIMINGS,
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  indirectChecks: 1,
  suspicionMult: 3,
  retransmitMult: 2,
  gossipIntervalMs: 50,
  gossipToTheDeadMs: 5_000,
  pushPullIntervalMs: 5_000,
  reconnectIntervalMs: 2_000,
  streamTimeoutMs: 1_000,
});

export const DEFAULT_LIMITS: Readonly<SwimLimits> = Object.freeze({
  maxPacketBytes: 1400,
  maxStreamBytes: 16 * 1024 * 1024,
  maxMetadataBytes: 512,
  maxQueuedBroadcasts: 4096,
});

/** memberlist's LAN defaults (ARCHITECTURE §4). */
export function lanConfig(name: string, overrides: Partial<SwimConfig> = {}): SwimConfig {
  return { ...LAN_TIMINGS, ...DEFAULT_LIMITS, name, ...overrides };
}

/** Fast timings for loopback clusters and tests. */
export function localConfig(name: string, overrides: Partial<SwimConfig> = {}): SwimConfig {
  return { ...LOCAL_TIMINGS, ...DEFAULT_LIMITS, name, ...overrides };
}

/** The timings the formulas derive for a cluster of n members (for logs and the benchmark). */
export interface DerivedTimings {
  suspicionMinMs: number;
  suspicionMaxMs: number;
  retransmitLimit: number;
  pushPullIntervalMs: number;
}

export function deriveTimings(timings: SwimTimings, clusterSize: number): DerivedTimings {
  const suspicionMinMs = suspicionTimeoutMs(timings.suspicionMult, clusterSize, timings.probeIntervalMs);
  return {
    suspicionMinMs,
    suspicionMaxMs: suspicionMinMs * timings.suspicionMaxTimeoutMult,
    retransmitLimit: retransmitLimit(timings.retransmitMult, clusterSize),
    pushPullIntervalMs: pushPullIntervalMs(timings.pushPullIntervalMs, clusterSize),
  };
}

/** Lists what is wrong with a config (empty when valid). */
export function validateConfig(config: SwimConfig): string[] {
  const problems: string[] = [];
  const positive: Array<keyof SwimTimings | keyof SwimLimits> = [
    'probeIntervalMs', 'probeTimeoutMs', 'gossipIntervalMs', 'pushPullIntervalMs', 'streamTimeoutMs',
    'maxPacketBytes', 'maxStreamBytes', 'reconnectIntervalMs', 'suspicionMult', 'retransmitMult', 'awarenessMaxMultiplier',
  ];
  for (const key of positive) if (!((config[key] as number) > 0)) problems.push(`${key} must be > 0`);
  if (config.probeTimeoutMs >= config.probeIntervalMs) problems.push('probeTimeoutMs must be < probeIntervalMs');
  if (config.suspicionMaxTimeoutMult < 1) problems.push('suspicionMaxTimeoutMult must be >= 1');
  if (config.indirectChecks < 0 || config.gossipNodes < 0) problems.push('indirectChecks and gossipNodes must be >= 0');
  if (!config.name || new TextEncoder().encode(config.name).length > 255) problems.push('name must be 1..255 bytes');
  if (config.metadata && config.metadata.length > config.maxMetadataBytes) problems.push(`metadata exceeds ${config.maxMetadataBytes} bytes`);
  return problems;
}
