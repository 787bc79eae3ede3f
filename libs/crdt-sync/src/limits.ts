/**
 * Every wire limit of the sync protocol in one place. Both ends of a link must agree on the frame
 * cap: each side announces its own in HELLO and sends with the smaller of the two.
 */
export interface SyncLimits {
  /** Largest single transport message (one gRPC message). Larger messages travel as chunks. */
  maxFrameBytes: number;
  /** Largest message after reassembly and after inflating (snapshots are the big ones). */
  maxMessageBytes: number;
  /** Transfers (chunked messages) a peer may have half-delivered at once; more are dropped. */
  maxConcurrentTransfersPerPeer: number;
  /** A half-delivered chunked message is dropped after this long without completing. */
  transferTimeoutMs: number;
  /** Ops in one delta batch; a longer backlog goes out as several batches. */
  maxOpsPerBatch: number;
  /** Entries in one load table. */
  maxLoadEntries: number;
  /** Bytes of any identifier (node id, worker id) on the wire. */
  maxIdBytes: number;
}

/** The smallest frame cap a node accepts from a peer's HELLO (keeps chunk counts sane). */
export const MIN_FRAME_BYTES = 1024;

export const DEFAULT_SYNC_LIMITS: SyncLimits = {
  maxFrameBytes: 256 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxConcurrentTransfersPerPeer: 4,
  transferTimeoutMs: 30_000,
  maxOpsPerBatch: 4096,
  maxLoadEntries: 65_536,
  maxIdBytes: 512,
};

/** Most chunks one message may be split into under these limits. */
export function maxChunksPerMessage(limits: SyncLimits): number {
  return Math.ceil(limits.maxMessageBytes / (MIN_FRAME_BYTES / 2)) + 1;
}
