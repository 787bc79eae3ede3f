/**
 * What the routing-state channel needs from the state it carries (the radix tree plugs in here).
 * The channel itself only moves opaque, sequenced batches and snapshots.
 *
 * Contract: ops are idempotent and commutative (LWW by (logical time, origin)), so applying a
 * batch twice or batches of different origins in any order gives the same state.
 */
export interface ShardCodec<Op> {
  /** Encodes a batch of this node's own ops (compression is the channel's job). */
  encodeOps(ops: readonly Op[]): Uint8Array;
  /** Decodes at most `maxOps` ops; undefined on malformed input (never throws on bad bytes). */
  decodeOps(bytes: Uint8Array, maxOps: number): Op[] | undefined;
  /** Applies one op of `origin`'s shard to this node's state. */
  applyOp(origin: string, op: Op): void;
}

export interface SnapshotSource {
  /**
   * Encodes this node's own shard: everything its appended ops produced so far. The caller applies
   * an op to its own state before `append`ing it, so a snapshot taken at seq N covers ops 1..N.
   */
  encodeSnapshot(): Uint8Array;
  /** Replaces what this node holds of `origin`'s shard with the snapshot; false if malformed. */
  applySnapshot(origin: string, bytes: Uint8Array): boolean;
  /**
   * A content fingerprint (printable ASCII, at most 64 bytes) of this node's own shard (no
   * `origin`) or of what it holds of `origin`'s: equal wherever the same content is held, however
   * it got there. Anti-entropy compares them; without it, only versions are compared. Should be
   * cheap when nothing changed (cache it).
   */
  contentDigest?(origin?: string): string;
}

export type ShardAdapter<Op> = ShardCodec<Op> & SnapshotSource;

/** A shard's position: its epoch (random per process start) and the last op's sequence number. */
export interface ShardVersion {
  epoch: number;
  seq: number;
}
