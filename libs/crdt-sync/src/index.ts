// Public API of @drover/crdt-sync: mesh state sync as a synchronous, transport-free core.
export { SyncNode, DROPPED_MESSAGES_METRIC, SYNC_BYTES_METRIC, SNAPSHOTS_SENT_METRIC, ANTI_ENTROPY_REPAIRS_METRIC } from './sync-node';
export type { SyncStats, PeerSyncStats, SyncDigest } from './sync-node';
export { DEFAULT_SYNC_NODE_CONFIG } from './sync-node-config';
export type { SyncNodeDeps, SyncNodeConfig, SyncNodeInit } from './sync-node-config';
export { DEFAULT_SYNC_LIMITS, MIN_FRAME_BYTES, maxChunksPerMessage } from './limits';
export type { SyncLimits } from './limits';

// Registry document (Yjs) and its sync protocol.
export { RegistryDoc, REGISTRY_MAPS, DEFAULT_REGISTRY_DOC_CONFIG } from './docs/registry-doc';
export type { DocSize, RegistryChange, RegistryDocConfig, RegistryDocDeps, RegistryMapName } from './docs/registry-doc';
export { compareLww, HybridTimestamps } from './docs/lww';
export type { JsonValue, LwwEntry } from './docs/lww';
export { compareEpoch, formatEpoch } from './docs/epoch';
export { encodeSyncStep1, handleSyncMessage, handleDocSync, syncStep1, fullStateMessage } from './docs/doc-sync';
export type { DocSyncMessage, DocSyncOutcome } from './docs/doc-sync';

// Routing-state channel.
export type { ShardAdapter, ShardCodec, SnapshotSource, ShardVersion } from './shard/shard-codec';
export { OpLog } from './shard/op-log';
export { ShardAntiEntropy, DEFAULT_ANTI_ENTROPY_CONFIG } from './shard/anti-entropy';
export type { AntiEntropyConfig, AntiEntropyStats } from './shard/anti-entropy';
export { LwwRouteTable } from './shard/lww-route-table';
export type { RouteOp } from './shard/lww-route-table';
export { shardVersionsDigest } from './digest';

// Load channel.
export { LoadTable } from './load/load-table';
export type { WorkerLoad } from './load/load-table';

// Wire format.
export { encodeMessage, decodeMessage, decodeMessageOrReason, WIRE_VERSION, MAX_DIGEST_BYTES } from './wire/envelope';
export type { DropReason, DecodeResult } from './wire/envelope';
export { MESSAGE_TAGS } from './wire/messages';
export type { SyncMessage, SyncMessageType, DocEpoch, LoadEntry } from './wire/messages';
export { splitIntoFrames, Reassembler } from './wire/chunking';
export type { ReassemblyResult } from './wire/chunking';
export { ByteReader, ByteWriter, tryDecode } from './wire/bytes';
export { compress, decompressCapped } from './wire/compression';

// Test network (virtual time, random delivery) reusable by the mesh's tests and the simulator.
export { SyncTestNetwork } from './testing/sync-test-network';
export type { SyncTestNetworkOptions, TestSyncNode } from './testing/sync-test-network';
