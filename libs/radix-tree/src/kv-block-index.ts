import { extendContentKey, prefixContentKeys, ROOT_CONTENT_KEY, type ContentKey } from './content-key';

/**
 * Exact per-worker prefix-cache index rebuilt from KV events (blocks stored / removed / cleared).
 *
 * Blocks are keyed by token content: a stored block's key is the gateway's own content key of the
 * whole prefix it ends (its parent's key extended by its `token_ids`), found through
 * `parent_block_hash`. The engine's `block_hash` is kept only as an opaque handle, to apply later
 * removals: engines hash their own way (vLLM salts per process), so no prompt is ever hashed the
 * engine's way here. A prompt's keys come from one pass over its tokens, whatever block size each
 * worker uses, and each worker's match is found by galloping over its block count (a few dozen
 * lookups even for a 32k-token prompt at block size 1).
 *
 * Galloping assumes a worker's blocks are prefix-closed (a block cached means its parents are),
 * which is how engines evict: SGLang's radix cache frees leaves only, vLLM frees a request's
 * blocks tail first. A hole left by an unusual eviction can overstate one worker's match; the
 * misrouted request is then a plain miss, and the engine's next stored event repairs the index.
 */
export interface KvBlockLike {
  blockHash: string;
  tokenIds: ArrayLike<number>;
  blockSize: number;
  /** Blocks of a LoRA adapter: never matched by base-model prompts, so not indexed. */
  loraId?: string;
}

export interface KvEventLike {
  kind: 'stored' | 'removed' | 'cleared';
  parentBlockHash?: string;
  blocks?: readonly KvBlockLike[];
  blockHashes?: readonly string[];
}

interface WorkerBlocks {
  /** Engine block handle → content key of the prefix that block ends. */
  handles: Map<string, ContentKey>;
  /**
   * Handles learnt before the last stream gap or resubscription. Most are still valid (a real
   * engine does not replay what it cached), so they keep matching; some removals may have been
   * missed, so these are the first dropped when the worker's index is full.
   */
  stale: Map<string, ContentKey>;
  /** Content key → how many handles name it (ranks may cache the same content). */
  keys: Map<ContentKey, number>;
  blockSize: number | undefined;
}

export class KvBlockIndex {
  private readonly byWorker = new Map<string, WorkerBlocks>();
  private lastBlockSize: number | undefined;
  /** Prompt prefix keys, reused across lookups (grown as needed). */
  private scratch = new Float64Array(4096);
  /** Stored blocks whose parent this index does not know (missed in a gap): cannot be placed. */
  unplacedBlocks = 0;

  constructor(
    /** Blocks remembered per worker at most (past that, stale blocks go first, then new ones are not indexed). */
    private readonly maxBlocksPerWorker = 4_000_000,
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

  /** Blocks indexed for the worker (including those kept across a gap). */
  size(worker: string): number {
    const w = this.byWorker.get(worker);
    return w ? w.handles.size + w.stale.size : 0;
  }

  staleSize(worker: string): number {
    return this.byWorker.get(worker)?.stale.size ?? 0;
  }

  /** Applies a batch of events; `rank` scopes the handles of a data-parallel rank's own cache. */
  apply(worker: string, events: readonly KvEventLike[], rank?: number): void {
    let w = this.byWorker.get(worker);
    if (!w) {
      w = { handles: new Map(), stale: new Map(), keys: new Map(), blockSize: undefined };
      this.byWorker.set(worker, w);
    }
    const scope = rank ? `${rank}:` : '';
    for (const e of events) {
      if (e.kind === 'cleared') {
        w.handles.clear();
        w.stale.clear();
        w.keys.clear();
      } else if (e.kind === 'removed') {
        for (const h of e.blockHashes ?? []) this.forget(w, scope + h);
      } else this.store(w, e, scope);
    }
  }

  /** Forgets a worker (it left, or its engine restarted with an empty cache). */
  reset(worker: string): void {
    this.byWorker.delete(worker);
  }

  /**
   * The worker's event stream had a gap or was resubscribed: what is indexed stays (engines never
   * replay, so forgetting it would lose every cached prefix) but is marked stale, to be dropped
   * first if the index fills.
   */
  markStale(worker: string): void {
    const w = this.byWorker.get(worker);
    if (!w || w.handles.size === 0) return;
    if (w.stale.size === 0) {
      w.stale = w.handles;
      w.handles = new Map();
      return;
    }
    for (const [h, k] of w.handles) w.stale.set(h, k);
    w.handles.clear();
  }

  /** Matched tokens per worker (only workers with a match). The prompt is hashed once. */
  matchTokens(ids: ArrayLike<number>): Map<string, number> {
    const out = new Map<string, number>();
    const n = ids.length;
    if (n === 0 || !this.anyIndexed()) return out;
    if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, this.scratch.length * 2));
    const keys = this.scratch;
    prefixContentKeys(ids, keys);
    for (const [worker, w] of this.byWorker) {
      const size = w.blockSize;
      if (!size || w.keys.size === 0) continue;
      const blocks = Math.floor(n / size);
      const held = (k: number) => w.keys.has(keys[k * size - 1]);
      const matched = gallop(blocks, held);
      if (matched > 0) out.set(worker, matched * size);
    }
    return out;
  }

  private anyIndexed(): boolean {
    for (const w of this.byWorker.values()) if (w.keys.size > 0) return true;
    return false;
  }

  private store(w: WorkerBlocks, e: KvEventLike, scope: string): void {
    let parent: ContentKey | undefined = ROOT_CONTENT_KEY;
    if (e.parentBlockHash !== undefined) {
      const handle = scope + e.parentBlockHash;
      parent = w.handles.get(handle);
      if (parent === undefined) {
        parent = w.stale.get(handle);
        // The engine just built on it, so it is still cached: no longer stale.
        if (parent !== undefined) {
          w.stale.delete(handle);
          w.handles.set(handle, parent);
        }
      }
    }
    const blocks = e.blocks ?? [];
    if (parent === undefined) {
      this.unplacedBlocks += blocks.length;
      return;
    }
    for (const b of blocks) {
      if (b.loraId !== undefined && b.loraId !== '0' && b.loraId !== '') return;
      if (b.tokenIds.length === 0) return; // an engine that does not fill token ids cannot be indexed by content
      const key = extendContentKey(parent, b.tokenIds);
      const handle = scope + b.blockHash;
      const known = w.handles.get(handle) ?? w.stale.get(handle);
      if (known !== key) {
        if (known !== undefined) this.forget(w, handle);
        if (w.handles.size + w.stale.size >= this.maxBlocksPerWorker) {
          if (w.stale.size === 0) return;
          this.dropStale(w);
        }
        w.keys.set(key, (w.keys.get(key) ?? 0) + 1);
      }
      w.stale.delete(handle);
      w.handles.set(handle, key);
      if (b.blockSize > 0) w.blockSize = this.lastBlockSize = b.blockSize;
      parent = key;
    }
  }

  private forget(w: WorkerBlocks, handle: string): void {
    let key = w.handles.get(handle);
    if (key !== undefined) w.handles.delete(handle);
    else {
      key = w.stale.get(handle);
      if (key === undefined) return;
      w.stale.delete(handle);
    }
    this.release(w, key);
  }

  private dropStale(w: WorkerBlocks): void {
    for (const key of w.stale.values()) this.release(w, key);
    w.stale.clear();
  }

  private release(w: WorkerBlocks, key: ContentKey): void {
    const n = (w.keys.get(key) ?? 0) - 1;
    if (n > 0) w.keys.set(key, n);
    else w.keys.delete(key);
  }
}

/** Largest k ≤ n with held(1..k) all true, assuming held is monotone (true then false). */
function gallop(n: number, held: (k: number) => boolean): number {
  if (n === 0 || !held(1)) return 0;
  let lo = 1; // held
  let step = 1;
  let hi = n + 1; // not held (sentinel)
  while (lo + step <= n) {
    if (held(lo + step)) {
      lo += step;
      step *= 2;
    } else {
      hi = lo + step;
      break;
    }
  }
  if (hi === n + 1 && lo < n) {
    // Ran out of doubling room: the end is in (lo, n].
    if (held(n)) return n;
    hi = n;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (held(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
