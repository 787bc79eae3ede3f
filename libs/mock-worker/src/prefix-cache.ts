/**
 * The engine's prefix KV cache: full blocks of `blockSize` tokens keyed by a hash chained on the
 * parent block (as real engines do), LRU-evicted by a logical clock when over capacity.
 */
export interface StoredBlock {
  hash: string;
  parentHash: string | undefined;
  tokenIds: number[];
}

export interface CacheChange {
  stored: StoredBlock[];
  removed: string[];
}

interface Block {
  parent: string | undefined;
  lastUsed: number;
  /** Children count: only leaves are evicted, so a cached prefix never loses its start. */
  children: number;
}

/** 53-bit FNV-1a-style chain hash rendered as a signed int64 decimal string (the wire type). */
export function chainHash(parent: string | undefined, tokens: readonly number[]): string {
  let h = BigInt.asUintN(64, BigInt(parent ?? '1469598103934665603'));
  for (const t of tokens) {
    h ^= BigInt(t + 1);
    h = BigInt.asUintN(64, h * 1099511628211n);
  }
  return BigInt.asIntN(64, h).toString();
}

export class PrefixCache {
  private readonly blocks = new Map<string, Block>();
  private clock = 0;
  /** The chain's seed: the salt makes every hash opaque (two salts never share a hash). */
  private readonly root: string | undefined;

  constructor(readonly blockSize: number, readonly capacityTokens: number, salt = '') {
    this.root = salt ? chainHash(undefined, Array.from(salt, (c) => c.charCodeAt(0))) : undefined;
  }

  get usedTokens(): number {
    return this.blocks.size * this.blockSize;
  }

  /** Hashes of the full blocks of `ids`, in order. */
  blockHashes(ids: readonly number[]): string[] {
    const out: string[] = [];
    let parent: string | undefined = this.root;
    for (let i = 0; i + this.blockSize <= ids.length; i += this.blockSize) {
      parent = chainHash(parent, ids.slice(i, i + this.blockSize));
      out.push(parent);
    }
    return out;
  }

  /** Tokens of `ids` already cached (whole blocks from the start); touches them. */
  match(ids: readonly number[], touch = true): number {
    let matched = 0;
    const now = ++this.clock;
    for (const h of this.blockHashes(ids)) {
      const b = this.blocks.get(h);
      if (!b) break;
      if (touch) b.lastUsed = now;
      matched += this.blockSize;
    }
    return matched;
  }

  /** Caches every full block of `ids`; evicts least-recently-used leaves beyond capacity. */
  insert(ids: readonly number[]): CacheChange {
    const change: CacheChange = { stored: [], removed: [] };
    const now = ++this.clock;
    let parent: string | undefined = this.root;
    for (let i = 0; i + this.blockSize <= ids.length; i += this.blockSize) {
      const tokens = ids.slice(i, i + this.blockSize);
      const h = chainHash(parent, tokens);
      const existing = this.blocks.get(h);
      const parentBlock = parent === undefined ? undefined : this.blocks.get(parent);
      if (existing) existing.lastUsed = now;
      else {
        this.blocks.set(h, { parent: parentBlock ? parent : undefined, lastUsed: now, children: 0 });
        if (parentBlock) parentBlock.children++;
        change.stored.push({ hash: h, parentHash: parentBlock ? parent : undefined, tokenIds: tokens as number[] });
      }
      parent = h;
    }
    this.evict(change, now, this.capacityTokens);
    return change;
  }

  /** Evicts least-recently-used leaves until the cache fits in `maxTokens` (room for running requests). */
  shrinkTo(maxTokens: number): CacheChange {
    const change: CacheChange = { stored: [], removed: [] };
    this.evict(change, -1, Math.max(0, maxTokens));
    return change;
  }

  clear(): number {
    const n = this.blocks.size;
    this.blocks.clear();
    return n;
  }

  /**
   * Over capacity, evicts least-recently-used leaves down to 95% (amortising the scan), never
   * the blocks of the sequence just inserted (stamp `current`).
   */
  private evict(change: CacheChange, current: number, capacityTokens: number): void {
    const maxBlocks = Math.floor(capacityTokens / this.blockSize);
    if (this.blocks.size <= maxBlocks) return;
    const target = Math.floor(maxBlocks * 0.95);
    const leaves = [...this.blocks.entries()].filter(([, b]) => b.children === 0 && b.lastUsed !== current).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (let i = 0; this.blocks.size > target && i < leaves.length; i++) {
      const [hash, block] = leaves[i];
      this.blocks.delete(hash);
      change.removed.push(hash);
      const parent = block.parent ? this.blocks.get(block.parent) : undefined;
      if (parent && --parent.children === 0 && parent.lastUsed !== current) {
        // The parent just became a leaf: place it by its stamp among the remaining candidates.
        let j = i + 1;
        while (j < leaves.length && leaves[j][1].lastUsed < parent.lastUsed) j++;
        leaves.splice(j, 0, [block.parent!, parent]);
      }
    }
  }
}
