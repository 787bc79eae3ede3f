/**
 * @drover/radix-tree: the approximate prefix trees routing decides on, and their wire forms.
 *
 * One walk for match and record (the request path):
 *
 *   const m = shards.match(tokens);                 // ShardsMatch: perOwner/best/length over every shard + a cursor
 *   // ... policy picks `worker` from m.perOwner; the worker accepts the request ...
 *   const rec = shards.recordFrom(m, worker.id);    // RecordedRoute: continues from the cursor, no second walk
 *   emit(rec.op);                                   // the insert op for the mesh
 *   // ... the request fails before its first token ...
 *   emit(shards.withdraw(rec));                     // takes the record back (local shard and, via the op, peers)
 *
 * `RadixTree` offers the same on one tree: `match(seq): TreeMatch` (with `cursor`),
 * `recordFrom(cursor, owner, time?): Recorded` ({ time, heldBefore }), and
 * `withdraw(seq, owner, time, keepLen)`. A cursor made stale by a destructive change to its tree
 * (eviction, removal, withdrawal, merge) is detected by a version check and `recordFrom` falls back
 * to a full insert; a cursor survives inserts (splits keep the cursor's node and where it ends).
 */
export { RadixTree, RadixNode, type MatchResult, type MatchCursor, type TreeMatch, type Recorded, type TreeStats } from './radix-tree';
export { TextRadixTree } from './text-radix-tree';
export { encodeSnapshot, decodeSnapshot } from './snapshot-codec';
export { encodeOps, decodeOps, applyOp, type TreeOp } from './ops-codec';
export { treeDigest } from './digest';
export { PrefixShards, type ShardsMatch, type RecordedRoute } from './prefix-shards';
export { KvBlockIndex, type KvEventLike, type KvBlockLike } from './kv-block-index';
export { extendContentKey, prefixContentKeys, ROOT_CONTENT_KEY, type ContentKey } from './content-key';
export { DEFAULT_TREE_BUDGET_TOKENS, DEFAULT_TREE_LIMITS, type TreeCodecLimits } from './limits';
