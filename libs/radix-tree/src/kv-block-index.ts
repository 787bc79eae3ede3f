/**
 * Exact per-worker prefix-cache index rebuilt from KV events (blocks stored / removed / cleared).
 * A prompt matches a worker for as many whole blocks, from its start, as the worker holds. The
 * prompt's blocks are hashed with the same chained hash the engine uses (`hashBlock`).
 */
export type BlockHashFn = (parentHash: string | undefined, tokens: readonly number[]) => string;

export interface KvEventLike {
  kind: 'stored' | 'removed' | 'cleared';
  blocks?: { blockHash: string; tokenIds: number[]; blockSize: number }[];
  blockHashes?: string[];
}

export function chainedBlockHashes(ids: readonly number[], blockSize: number, hashBlock: BlockHashFn): string[] {
  const out: string[] = [];
  let parent: string | undefined;
  for (let i = 0; i + blockSize <= ids.length; i += blockSize) {
    parent = hashBlock(parent, ids.slice(i, i + blockSize));
    out.push(parent);
  }
  return out;
}

export class KvBlockIndex {
  private readonly blocks = new Map<string, Set<string>>();
  private blockSizeSeen: number | undefined;

  constructor(private readonly hashBlock: BlockHashFn, private readonly maxBlocksPerWorker = 1_000_000) {}

  /** Block size learned from the events (workers report it per block). */
  get blockSize(): number | undefined {
    return this.blockSizeSeen;
  }

  workers(): string[] {
    return [...this.blocks.keys()];
  }

  size(worker: string): number {
    return this.blocks.get(worker)?.size ?? 0;
  }

  apply(worker: string, events: readonly KvEventLike[]): void {
    let set = this.blocks.get(worker);
    if (!set) {
      set = new Set();
      this.blocks.set(worker, set);
    }
    for (const e of events) {
      if (e.kind === 'cleared') set.clear();
      else if (e.kind === 'removed') for (const h of e.blockHashes ?? []) set.delete(h);
      else
        for (const b of e.blocks ?? []) {
          if (set.size >= this.maxBlocksPerWorker) break;
          set.add(b.blockHash);
          if (b.blockSize > 0) this.blockSizeSeen = b.blockSize;
        }
    }
  }

  reset(worker: string): void {
    this.blocks.delete(worker);
  }

  /** Matched tokens per worker (only workers with a match). */
  matchTokens(ids: readonly number[]): Map<string, number> {
    const out = new Map<string, number>();
    const size = this.blockSizeSeen;
    if (!size || this.blocks.size === 0) return out;
    const hashes = chainedBlockHashes(ids, size, this.hashBlock);
    for (const [worker, set] of this.blocks) {
      let n = 0;
      while (n < hashes.length && set.has(hashes[n])) n++;
      if (n > 0) out.set(worker, n * size);
    }
    return out;
  }
}
