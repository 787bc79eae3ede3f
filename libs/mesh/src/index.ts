export { createMeshNode, MeshNode, type MeshNodeDeps, type MeshNodeConfig, type MeshMember, type MeshStatus } from './mesh-node';
export type { SyncTransport } from './sync-transport';
export { PacketSyncTransport } from './packet-sync-transport';
export { encodeMetadata, decodeMetadata, type NodeMetadata } from './metadata';
export { GrpcSyncTransport, DEFAULT_SYNC_STREAM_LIMITS, type GrpcSyncTransportOptions, type MeshTlsOptions, type SyncStreamLimits } from './server/grpc-sync-transport';
export { resolveSeeds, DnsDiscovery, type DnsResolver } from './server/discovery';
export { HyperswarmDiscovery, meshTopics, type HyperswarmDiscoveryOptions } from './server/hyperswarm-discovery';
export { sealSyncFrame, openSyncFrame, type OpenedSyncFrame } from './sync-envelope';
