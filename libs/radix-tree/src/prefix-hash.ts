/**
 * Prefix identifiers for compact ops: a pair of 32-bit FNV-style hashes over a token prefix,
 * taken at every `PREFIX_STRIDE` tokens, so an op can say "the prefix you already hold with this
 * hash, plus these tokens" instead of repeating a long shared prompt.
 */
export const PREFIX_STRIDE = 16;

export interface PrefixHash {
  a: number;
  b: number;
}

/**
 * An in-memory index key for a prefix hash: both halves folded into a 32-bit integer (a small
 * integer to V8, so the index is a Map over numbers that need no boxing, not strings built per
 * stride). Never on the wire (ops carry `a` and `b`); a holder found by key is checked against
 * the full 64-bit hash before use, so a collision costs a lost hint, never a wrong prefix.
 */
export function prefixKey(h: PrefixHash): number {
  return prefixKeyOf(h.a, h.b);
}

export function prefixKeyOf(a: number, b: number): number {
  return (a ^ Math.imul(b, 0x9e3779b1)) | 0;
}

/** Writes the key of every stride-aligned prefix of `seq` into `out` (grown as needed); returns the buffer and the count. */
export function prefixKeys(seq: ArrayLike<number>, out: Int32Array): { keys: Int32Array; count: number } {
  const count = Math.floor(seq.length / PREFIX_STRIDE);
  const keys = out.length >= count ? out : new Int32Array(Math.max(count, out.length * 2));
  let a = 0x811c9dc5;
  let b = 0x1b873593;
  for (let i = 0; i < count * PREFIX_STRIDE; i++) {
    const t = seq[i];
    a = Math.imul(a ^ t, 0x01000193) >>> 0;
    b = Math.imul(b ^ (t + i), 0x5bd1e995) >>> 0;
    if ((i + 1) % PREFIX_STRIDE === 0) keys[(i + 1) / PREFIX_STRIDE - 1] = prefixKeyOf(a, b);
  }
  return { keys, count };
}

/** Calls `at(length, hash)` for every multiple of the stride up to `seq.length` (or `limit`). */
export function forEachPrefixHash(seq: ArrayLike<number>, at: (length: number, hash: PrefixHash) => void, limit = seq.length): void {
  let a = 0x811c9dc5;
  let b = 0x1b873593;
  for (let i = 0; i < limit; i++) {
    const t = seq[i];
    a = Math.imul(a ^ t, 0x01000193) >>> 0;
    b = Math.imul(b ^ (t + i), 0x5bd1e995) >>> 0;
    if ((i + 1) % PREFIX_STRIDE === 0) at(i + 1, { a, b });
  }
}

export function hashPrefix(seq: ArrayLike<number>, length: number): PrefixHash {
  let out: PrefixHash = { a: 0, b: 0 };
  forEachPrefixHash(seq, (len, h) => {
    if (len === length) out = h;
  }, length);
  return out;
}

/** Rolling state of forEachPrefixHash, for walking a tree without rehashing shared prefixes. */
export interface RollingPrefixHash {
  a: number;
  b: number;
  length: number;
}

export const ROLLING_START: RollingPrefixHash = { a: 0x811c9dc5, b: 0x1b873593, length: 0 };

/** Extends `state` by `tokens`, calling `at` at every stride boundary crossed. */
export function rollPrefixHash(state: RollingPrefixHash, tokens: ArrayLike<number>, at: (length: number, hash: PrefixHash) => void): RollingPrefixHash {
  let { a, b, length: i } = state;
  for (let k = 0; k < tokens.length; k++, i++) {
    const t = tokens[k];
    a = Math.imul(a ^ t, 0x01000193) >>> 0;
    b = Math.imul(b ^ (t + i), 0x5bd1e995) >>> 0;
    if ((i + 1) % PREFIX_STRIDE === 0) at(i + 1, { a, b });
  }
  return { a, b, length: i };
}
