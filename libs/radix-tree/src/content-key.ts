/**
 * The gateway's own key for a token prefix: a rolling hash over the tokens with a 53-bit state (a
 * 32-bit lane and a 21-bit lane), so the state itself is an exact JavaScript number, usable as a
 * Map key and resumable from it. Because the state after a prefix does not depend on where block
 * boundaries fell, one pass over a prompt gives the key of every prefix, whatever block size each
 * engine uses, and a stored block's key follows from its parent's key and its own tokens.
 *
 * Engines hash blocks their own way (vLLM salts per process), so their hashes are never compared
 * with these: only token content is. Each step is a bijection of each lane for a fixed token (xor,
 * odd multiply, xorshift), so two prefixes collide only by chance, about 2^-53 per pair.
 */
export type ContentKey = number;

const M21 = 0x1fffff;
const TWO_21 = 0x200000;

export const ROOT_CONTENT_KEY: ContentKey = 0x811c9dc5 * TWO_21 + 0x1b873;

/** Extends `key` by `tokens[from, to)`. */
export function extendContentKey(key: ContentKey, tokens: ArrayLike<number>, from = 0, to = tokens.length): ContentKey {
  let a = Math.floor(key / TWO_21);
  let b = key - a * TWO_21;
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    a = Math.imul(a ^ t, 0x9e3779b1);
    a = (a ^ (a >>> 15)) >>> 0;
    let x = (b ^ (t ^ (t >>> 21) ^ (a >>> 11))) & M21;
    x = Math.imul(x, 0x2c1b3c6d) & M21;
    b = x ^ (x >>> 11);
  }
  return a * TWO_21 + b;
}

/**
 * Keys of the prefixes of `tokens` of length 1..n, written to `out[0..n)` (out[i] = key of the
 * first i+1 tokens). One pass, no allocation when `out` is large enough.
 */
export function prefixContentKeys(tokens: ArrayLike<number>, out: Float64Array): void {
  let a = Math.floor(ROOT_CONTENT_KEY / TWO_21);
  let b = ROOT_CONTENT_KEY - a * TWO_21;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    a = Math.imul(a ^ t, 0x9e3779b1);
    a = (a ^ (a >>> 15)) >>> 0;
    let x = (b ^ (t ^ (t >>> 21) ^ (a >>> 11))) & M21;
    x = Math.imul(x, 0x2c1b3c6d) & M21;
    b = x ^ (x >>> 11);
    out[i] = a * TWO_21 + b;
  }
}
