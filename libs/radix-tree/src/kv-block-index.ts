import { fnvChainHash, type BlockHashFn } from './block-hash';

/**
 * Exact per-worker prefix-cache index rebuilt from KV events (blocks stored / removed / cleared).
 * A prompt matches a worker for as many whole blocks, from its start, as the worker holds. The
 * prompt's blocks are hashed with the same chained hash the engine uses (`hashBlock`, by default
 * the mock worker's FNV chain); each worker's block size comes from its own events.
 */
export interface KvEventLike {
  kind: 'stored' | 'removed' | 'cleared';
  blocks?: { blockHash: string; tokenIds: number[]; blockSize: number }[];
  blockHashes?: string[];
}

export function chainedBlockHashes(ids: ArrayLike<number>, blockSize: number, hashBlock: BlockHashFn = fnvChainHash): string[] {
  const out: string[] = [];
  let parent: string | undefined;
  for (let i = 0; i + blockSize <= ids.length; i += blockSize) {
    parent = hashBlock(parent, Array.prototype.slice.call(ids, i, i + blockSize) as number[]);
    out.push(parent);
  }
  return out;
}

interface WorkerBlocks {
  hashes: Set<string>;
  blockSize: number | undefined;
}

export class KvBlockIndex {
  private readonly byWorker = new Map<string, WorkerBlocks>();
  private lastBlockSize: number | undefined;

  constructor(
    private readonly hashBlock: BlockHashFn = fnvChainHash,
    /** Blocks remembered per worker at most (a worker reporting more is only partly indexed). */
    private readonly maxBlocksPerWorker = 1_000_000,
  ) {}

  /** The block size most recently reported by any worker. */
  get blockSize(): number | undefined {
    return this.lastBlockSize;
  }

  blockSizeOf(worker: string): number | undefined {
    return this.byWorker.get(worker)?.blockSize;
  }

  workers(): string[] {
    return [...this.byWorker.keys()];
  }

  size(worker: string): number {
    return this.byWorker.get(worker)?.hashes.size ?? 0;
  }

  apply(worker: string, events: readonly KvEventLike[]): void {
    let w = this.byWorker.get(worker);
    if (!w) {
      w = { hashes: new Set(), blockSize: undefined };
      this.byWorker.set(worker, w);
    }
    for (const e of events) {
      if (e.kind === 'cleared') w.hashes.clear();
      else if (e.kind === 'removed') for (const h of e.blockHashes ?? []) w.hashes.delete(h);
      else
        for (const b of e.blocks ?? []) {
          if (w.hashes.size >= this.maxBlocksPerWorker) break;
          w.hashes.add(b.blockHash);
          if (b.blockSize > 0) w.blockSize = this.lastBlockSize = b.blockSize;
        }
    }
  }

  /** Forgets a worker (it left, or its event stream had a gap and is being rebuilt). */
  reset(worker: string): void {
    this.byWorker.delete(worker);
  }

  /** Matched tokens per worker (only workers with a match). The prompt is hashed once per block size. */
  matchTokens(ids: ArrayLike<number>): Map<string, number> {
    const out = new Map<string, number>();
    const hashesBySize = new Map<number, string[]>();
    for (const [worker, w] of this.byWorker) {
      const size = w.blockSize;
      if (!size || w.hashes.size === 0) continue;
      let hashes = hashesBySize.get(size);
      if (!hashes) {
        hashes = chainedBlockHashes(ids, size, this.hashBlock);
        hashesBySize.set(size, hashes);
      }
      let n = 0;
      while (n < hashes.length && w.hashes.has(hashes[n])) n++;
      if (n > 0) out.set(worker, n * size);
    }
    return out;
  }
}
