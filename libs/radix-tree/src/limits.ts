/** Caps every decoder checks before allocating (one place for all wire limits of the tree). */
export interface TreeCodecLimits {
  maxBytes: number;
  maxNodes: number;
  maxTokens: number;
  maxOwners: number;
  maxOwnerNameBytes: number;
  maxOps: number;
  maxSeqLength: number;
}

export const DEFAULT_TREE_LIMITS: TreeCodecLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxNodes: 5_000_000,
  maxTokens: 50_000_000,
  maxOwners: 65_536,
  maxOwnerNameBytes: 256,
  maxOps: 100_000,
  maxSeqLength: 1_000_000,
};

/**
 * The budget a tree gets when its owner names none: large enough for a real fleet's hot prefixes,
 * small enough that a tree created without thought still cannot grow without bound.
 */
export const DEFAULT_TREE_BUDGET_TOKENS = 8_000_000;
