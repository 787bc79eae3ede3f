export { RadixTree, RadixNode, type MatchResult, type TreeStats } from './radix-tree';
export { TextRadixTree } from './text-radix-tree';
export { encodeSnapshot, decodeSnapshot } from './snapshot-codec';
export { encodeOps, decodeOps, applyOp, type TreeOp } from './ops-codec';
export { treeDigest } from './digest';
export { PrefixShards } from './prefix-shards';
export { KvBlockIndex, type KvEventLike, type KvBlockLike } from './kv-block-index';
export { extendContentKey, prefixContentKeys, ROOT_CONTENT_KEY, type ContentKey } from './content-key';
export { DEFAULT_TREE_BUDGET_TOKENS, DEFAULT_TREE_LIMITS, type TreeCodecLimits } from './limits';
