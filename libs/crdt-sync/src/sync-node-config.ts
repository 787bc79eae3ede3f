import type { Clock, Logger, Metrics, Rng, Timers } from '@drover/runtime';
import type { RegistryDocConfig } from './docs/registry-doc';
import { DEFAULT_SYNC_LIMITS, type SyncLimits } from './limits';
import { type AntiEntropyConfig, DEFAULT_ANTI_ENTROPY_CONFIG } from './shard/anti-entropy';
import type { ShardAdapter } from './shard/shard-codec';

export interface SyncNodeDeps<Op> {
  clock: Clock;
  timers: Timers;
  rng: Rng;
  /** Hands an encoded frame to the transport (the mesh's gRPC stream to that peer). */
  send: (peerId: string, bytes: Uint8Array) => void;
  /** The routing state carried by the shard channel (the radix tree's codecs). */
  shard: ShardAdapter<Op>;
  log?: Logger;
  metrics?: Metrics;
}

/**
 * Timings of the sync node. Defaults suit a LAN mesh: the flush interval bounds how stale a
 * routing decision is on other nodes (plus one network hop).
 */
export interface SyncNodeConfig {
  nodeId: string;
  limits: SyncLimits;
  /** Shard ops, doc updates and load changes go out at most this long after they happen. */
  flushIntervalMs: number;
  /** ...or as soon as this many shard ops wait. */
  flushAtOps: number;
  /** Ops of this node's shard kept for deltas; a peer further behind gets a snapshot. */
  opLogCapacity: number;
  /** Acks to peers whose shard we advanced go out at most this often... */
  ackIntervalMs: number;
  /** ...and to every peer at least this often (the periodic "what I hold" exchange). */
  ackRefreshMs: number;
  nackIntervalMs: number;
  retransmitAfterMs: number;
  snapshotCooldownMs: number;
  docSyncIntervalMs: number;
  compactionCheckIntervalMs: number;
  /** Load changes go out at most this often per node... */
  loadMinIntervalMs: number;
  /** ...and the table at least this often, refreshing its TTL on peers. */
  loadRefreshMs: number;
  /** A peer's load table not refreshed for this long is dropped. */
  loadTtlMs: number;
  registry: Omit<RegistryDocConfig, 'nodeId'>;
  /** Routing-shard digest exchange and repair. */
  antiEntropy: AntiEntropyConfig;
}

export type SyncNodeInit = Partial<Omit<SyncNodeConfig, 'limits' | 'registry' | 'antiEntropy'>> & {
  nodeId: string;
  limits?: Partial<SyncLimits>;
  antiEntropy?: Partial<AntiEntropyConfig>;
  registry?: Partial<Omit<RegistryDocConfig, 'nodeId'>>;
};

export const DEFAULT_SYNC_NODE_CONFIG: Omit<SyncNodeConfig, 'nodeId' | 'registry'> = {
  limits: DEFAULT_SYNC_LIMITS,
  flushIntervalMs: 20,
  flushAtOps: 512,
  opLogCapacity: 65_536,
  ackIntervalMs: 100,
  ackRefreshMs: 1000,
  nackIntervalMs: 50,
  retransmitAfterMs: 1000,
  snapshotCooldownMs: 2000,
  docSyncIntervalMs: 2000,
  compactionCheckIntervalMs: 10_000,
  loadMinIntervalMs: 50,
  loadRefreshMs: 1000,
  loadTtlMs: 5000,
  antiEntropy: DEFAULT_ANTI_ENTROPY_CONFIG,
};
