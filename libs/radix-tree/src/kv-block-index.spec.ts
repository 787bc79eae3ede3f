import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnvChainHash } from './block-hash';
import { chainedBlockHashes, KvBlockIndex } from './kv-block-index';

/** The mock worker's chain hash written the slow, obvious way (BigInt per token): the contract. */
function referenceChainHash(parent: string | undefined, tokens: readonly number[]): string {
  let h = BigInt.asUintN(64, BigInt(parent ?? '1469598103934665603'));
  for (const t of tokens) {
    h ^= BigInt(t + 1);
    h = BigInt.asUintN(64, h * 1099511628211n);
  }
  return BigInt.asIntN(64, h).toString();
}

const SEED = Number(process.env.RADIX_SEED ?? 11);

describe('fnvChainHash', () => {
  it('equals the reference chain hash bit for bit (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 32 }), { minLength: 1, maxLength: 6 }), (blocks) => {
        let fast: string | undefined;
        let slow: string | undefined;
        for (const b of blocks) {
          fast = fnvChainHash(fast, b);
          slow = referenceChainHash(slow, b);
          expect(fast).toBe(slow);
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

function storedEvent(ids: number[], blockSize: number, hash = fnvChainHash) {
  const hashes = chainedBlockHashes(ids, blockSize, hash);
  return { kind: 'stored' as const, blocks: hashes.map((h, i) => ({ blockHash: h, tokenIds: ids.slice(i * blockSize, (i + 1) * blockSize), blockSize })) };
}

describe('KvBlockIndex', () => {
  it('defaults to the mock worker hash and learns each worker its own block size', () => {
    const idx = new KvBlockIndex();
    const ids = Array.from({ length: 70 }, (_, i) => 500 + i);
    idx.apply('w16', [storedEvent(ids.slice(0, 48), 16)]);
    idx.apply('w32', [storedEvent(ids.slice(0, 64), 32)]);
    expect(idx.blockSizeOf('w16')).toBe(16);
    expect(idx.blockSizeOf('w32')).toBe(32);
    expect(Object.fromEntries(idx.matchTokens(ids))).toEqual({ w16: 48, w32: 64 });
    // A different prompt sharing the first 20 tokens: one 16-block, no 32-block.
    const other = [...ids.slice(0, 20), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    expect(Object.fromEntries(idx.matchTokens(other))).toEqual({ w16: 16 });
    idx.reset('w16');
    expect(idx.matchTokens(ids).has('w16')).toBe(false);
  });

  it('matches exactly what a naive per-worker block set holds (property)', () => {
    const hash = referenceChainHash;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 24 }), fc.boolean()), { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 24 }),
        (events, query) => {
          const idx = new KvBlockIndex(hash);
          const naive = new Map<string, Set<string>>();
          for (const [worker, ids, remove] of events) {
            const hashes = chainedBlockHashes(ids, 4, hash);
            const set = naive.get(worker) ?? new Set<string>();
            naive.set(worker, set);
            if (remove) {
              idx.apply(worker, [{ kind: 'removed', blockHashes: hashes.slice(-1) }]);
              set.delete(hashes[hashes.length - 1]);
            } else {
              idx.apply(worker, [storedEvent(ids, 4, hash)]);
              hashes.forEach((h) => set.add(h));
            }
          }
          const qh = chainedBlockHashes(query, 4, hash);
          const expected: Record<string, number> = {};
          for (const [w, set] of naive) {
            let n = 0;
            while (n < qh.length && set.has(qh[n])) n++;
            if (n > 0 && idx.blockSizeOf(w)) expected[w] = n * 4;
          }
          expect(Object.fromEntries(idx.matchTokens(query))).toEqual(expected);
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });
});
