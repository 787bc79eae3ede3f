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

export function prefixKey(h: PrefixHash): string {
  return `${h.a.toString(36)}.${h.b.toString(36)}`;
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
