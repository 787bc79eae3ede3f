/**
 * The messages of the sync protocol. Type tags are append-only: never renumber or reuse one, a
 * newer node may add tags that an older node drops as `unknown_type`.
 */

/** A registry document's epoch: (n, id) ordered lexicographically; a higher epoch replaces a lower. */
export interface DocEpoch {
  n: number;
  id: number;
}

export interface LoadEntry {
  workerId: string;
  inFlight: number;
  queued: number;
}

export type SyncMessage =
  /** First message on a link: who I am and the frame cap I accept. */
  | { type: 'hello'; nodeId: string; maxFrameBytes: number }
  /** "Here is my state vector": the peer answers with what I lack. */
  | { type: 'doc-step1'; epoch: DocEpoch; stateVector: Uint8Array }
  /** The answer to step 1; `full` when encoded against an empty state vector (epochs differed). */
  | { type: 'doc-step2'; epoch: DocEpoch; full: boolean; update: Uint8Array }
  /** Local document changes pushed as they happen. */
  | { type: 'doc-update'; epoch: DocEpoch; update: Uint8Array }
  /** Ops `fromSeq .. fromSeq + count - 1` of the sender's shard, codec-encoded. */
  | { type: 'shard-ops'; epoch: number; fromSeq: number; count: number; ops: Uint8Array }
  /** The sender's whole shard as of `seq`. */
  | { type: 'shard-snapshot'; epoch: number; seq: number; snapshot: Uint8Array }
  /** What I hold of the receiver's shard; `gap` asks for a resend now, `wantSnapshot` for a snapshot. */
  | { type: 'shard-ack'; epoch: number; seq: number; gap: boolean; wantSnapshot: boolean }
  /** The sender's latest in-flight/queued work per worker (the whole table, it is small). */
  | { type: 'load'; epoch: number; version: number; entries: LoadEntry[] }
  /** One piece of a message larger than the frame cap. */
  | { type: 'chunk'; transferId: number; index: number; count: number; data: Uint8Array }
  /**
   * Anti-entropy: the sender's own shard is at (epoch, seq) with this content digest ('' when its
   * state has no content digest: versions only). The receiver compares what it holds of it.
   */
  | { type: 'shard-digest'; epoch: number; seq: number; digest: string };

export type SyncMessageType = SyncMessage['type'];

/** Wire tags, append-only. */
export const MESSAGE_TAGS: Record<SyncMessageType, number> = {
  hello: 1,
  'doc-step1': 2,
  'doc-step2': 3,
  'doc-update': 4,
  'shard-ops': 5,
  'shard-snapshot': 6,
  'shard-ack': 7,
  load: 8,
  chunk: 9,
  'shard-digest': 10,
};

export const TAG_TO_TYPE: ReadonlyMap<number, SyncMessageType> = new Map(
  Object.entries(MESSAGE_TAGS).map(([type, tag]) => [tag, type as SyncMessageType]),
);
