import type { RadixNode } from './radix-node';

/** Slab sizes in tokens: a small tree starts small, a large one amortises allocation over big chunks. */
const FIRST_CHUNK = 256;
const MAX_CHUNK = 16_384;
/** An edge at least this long gets a chunk of its own (no slack wasted at the end of a shared chunk). */
const OWN_CHUNK_AT = MAX_CHUNK / 4;

/**
 * Where the tree's edges live: large Uint32Array chunks that many nodes point into, so an edge
 * costs its tokens and three numbers, not a typed array and an ArrayBuffer of its own. Splits share
 * their parent's range, and a merge of adjacent ranges rewrites nothing. Ranges freed by evictions
 * and removals stay in their chunk until `compact` rewrites the live ones into fresh chunks;
 * `needsCompaction` says when the dead ranges outweigh the live tokens.
 */
export class TokenSlab {
  private chunk = new Uint32Array(FIRST_CHUNK);
  private used = 0;
  /** Where the range `room` just made starts in the chunk it returned. */
  private at = 0;
  /** Tokens written to chunks since the last compaction: an upper bound on what the chunks hold. */
  private written = 0;

  /** Copies `seq[from, from + n)` into the slab and points `node`'s edge at it. */
  write(node: RadixNode, seq: ArrayLike<number>, from: number, n: number): void {
    const chunk = this.room(n);
    const at = this.at;
    // A native copy pays off past a few dozen tokens (below, the view it needs costs more than the loop).
    if (n > 64 && seq instanceof Uint32Array) chunk.set(seq.subarray(from, from + n), at);
    else for (let k = 0; k < n; k++) chunk[at + k] = seq[from + k];
    this.place(node, chunk, at, n);
  }

  /** Points `node`'s edge at the concatenation of two ranges (a merge of ranges that are not adjacent). */
  writeJoined(node: RadixNode, a: Uint32Array, aStart: number, aLen: number, b: Uint32Array, bStart: number, bLen: number): void {
    const chunk = this.room(aLen + bLen);
    const at = this.at;
    chunk.set(a.subarray(aStart, aStart + aLen), at);
    chunk.set(b.subarray(bStart, bStart + bLen), at + aLen);
    this.place(node, chunk, at, aLen + bLen);
  }

  /** Whether dead ranges hold more than the live tokens (plus a chunk of slack). */
  needsCompaction(liveTokens: number): boolean {
    return this.written > 2 * liveTokens + 2 * MAX_CHUNK;
  }

  /** Rewrites every live edge into fresh chunks (in visiting order, so parents and first children end up adjacent). */
  compact(forEachNode: (visit: (node: RadixNode) => void) => void): void {
    this.chunk = new Uint32Array(FIRST_CHUNK);
    this.used = 0;
    this.written = 0;
    forEachNode((node) => {
      if (node.len > 0) this.writeJoined(node, node.store, node.start, node.len, node.store, 0, 0);
    });
  }

  private place(node: RadixNode, chunk: Uint32Array, at: number, n: number): void {
    node.store = chunk;
    node.start = at;
    node.len = n;
    node.key = n > 0 ? chunk[at] : 0;
    this.written += n;
    if (chunk === this.chunk) this.used += n;
  }

  /** The chunk the next `n` tokens go to; they start at `this.at`. */
  private room(n: number): Uint32Array {
    if (n >= OWN_CHUNK_AT) {
      // Exactly sized, its own; the shared chunk stays current for the short edges.
      this.at = 0;
      return new Uint32Array(n);
    }
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint32Array(Math.min(MAX_CHUNK, Math.max(this.chunk.length * 2, n)));
      this.used = 0;
    }
    this.at = this.used;
    return this.chunk;
  }
}
