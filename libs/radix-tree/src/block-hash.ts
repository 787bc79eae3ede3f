/**
 * The chained block hash the mock worker (and the worker contract's reference engine) gives its
 * KV blocks: 64-bit FNV-1a over (token + 1), seeded with the parent block's hash (or a fixed
 * seed for the first block), printed as a signed 64-bit decimal. Re-implemented here on
 * two 32-bit halves because this library depends on nothing else, and because BigInt arithmetic
 * per token is several times slower than this on long prompts (one BigInt per block remains, for
 * the printed form).
 */
export type BlockHashFn = (parentHash: string | undefined, tokens: readonly number[]) => string;

// The mock worker seeds with 1469598103934665603 (the FNV-64 offset basis missing its last digit);
// matching its hashes bit for bit is what matters, so the same seed is used here.
const OFFSET_HI = 0x14650fb0;
const OFFSET_LO = 0x739d0383;
const TWO_32 = 0x1_0000_0000;

export const fnvChainHash: BlockHashFn = (parentHash, tokens) => {
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  if (parentHash !== undefined) {
    const p = BigInt.asUintN(64, BigInt(parentHash));
    hi = Number(p >> 32n);
    lo = Number(p & 0xffffffffn);
  }
  for (let i = 0; i < tokens.length; i++) {
    const v = tokens[i] + 1;
    lo = (lo ^ v % TWO_32) >>> 0;
    hi = (hi ^ Math.floor(v / TWO_32)) >>> 0;
    // h × (2^40 + 0x1b3) mod 2^64, on halves: the 2^40 term only reaches the high word.
    const low = lo * 0x1b3;
    const carry = Math.floor(low / TWO_32);
    hi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = low >>> 0;
  }
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
};
