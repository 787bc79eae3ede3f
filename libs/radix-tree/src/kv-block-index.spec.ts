import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extendContentKey, prefixContentKeys, ROOT_CONTENT_KEY } from './content-key';
import { KvBlockIndex, type KvEventLike } from './kv-block-index';

const SEED = Number(process.env.RADIX_SEED ?? 11);

/**
 * An engine as the gateway sees it: block hashes of its own (salted, opaque), each stored event a
 * run of new blocks under a parent it already announced. Knows nothing of the gateway's keys.
 */
class FakeEngine {
  private readonly blocks = new Map<string, { parent: string | undefined; children: number }>();
  private n = 0;
  constructor(private readonly salt: string, readonly blockSize: number) {}

  private hash(parent: string | undefined, tokens: number[]): string {
    // Deterministic per content (engines dedupe by content) but unrelated to the gateway's key.
    return simpleDigest(`${this.salt}|${parent ?? ''}|${tokens.join(',')}`);
  }

  /** Caches the full blocks of `ids`; returns the event announcing the new ones. */
  store(ids: number[]): KvEventLike[] {
    let parent: string | undefined;
    let event: KvEventLike | undefined;
    for (let i = 0; i + this.blockSize <= ids.length; i += this.blockSize) {
      const tokens = ids.slice(i, i + this.blockSize);
      const h = this.hash(parent, tokens);
      if (!this.blocks.has(h)) {
        this.blocks.set(h, { parent, children: 0 });
        if (parent) this.blocks.get(parent)!.children++;
        event ??= { kind: 'stored', parentBlockHash: parent, blocks: [] };
        (event.blocks as { blockHash: string; tokenIds: number[]; blockSize: number }[]).push({ blockHash: h, tokenIds: tokens, blockSize: this.blockSize });
        this.n++;
      }
      parent = h;
    }
    return event ? [event] : [];
  }

  /** Evicts one leaf (engines free leaves first), if any. */
  evictLeaf(pick: number): KvEventLike[] {
    const leaves = [...this.blocks].filter(([, b]) => b.children === 0);
    if (leaves.length === 0) return [];
    const [h, b] = leaves[pick % leaves.length];
    this.blocks.delete(h);
    if (b.parent) this.blocks.get(b.parent)!.children--;
    return [{ kind: 'removed', blockHashes: [h] }];
  }

  /** Ground truth: whole blocks of `ids` cached from the start. */
  cached(ids: number[]): number {
    let parent: string | undefined;
    let n = 0;
    for (let i = 0; i + this.blockSize <= ids.length; i += this.blockSize) {
      const h = this.hash(parent, ids.slice(i, i + this.blockSize));
      if (!this.blocks.has(h)) break;
      n += this.blockSize;
      parent = h;
    }
    return n;
  }
}

function simpleDigest(s: string): string {
  let h = 2166136261;
  let g = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    g = Math.imul(g ^ s.charCodeAt(i), 0x5bd1e995);
  }
  return `${(h >>> 0).toString(36)}${(g >>> 0).toString(36)}`;
}

describe('content keys', () => {
  it('do not depend on block boundaries: a block key follows from its parent key and its tokens', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 64 }), (ids, cut) => {
        const at = Math.min(cut, ids.length);
        const keys = new Float64Array(ids.length);
        prefixContentKeys(ids, keys);
        const viaParent = extendContentKey(extendContentKey(ROOT_CONTENT_KEY, ids, 0, at), ids, at);
        expect(viaParent).toBe(keys[ids.length - 1]);
        expect(Number.isSafeInteger(viaParent)).toBe(true);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('tell apart prefixes that differ in one token (no collisions over many near-identical prompts)', () => {
    const seen = new Set<number>();
    const base = Array.from({ length: 32 }, (_, i) => 151_000 + i);
    for (let pos = 0; pos < 32; pos++)
      for (let v = 0; v < 2000; v++) {
        const ids = base.slice();
        ids[pos] = v;
        seen.add(extendContentKey(ROOT_CONTENT_KEY, ids));
      }
    expect(seen.size).toBe(32 * 2000); // every prompt differs from every other (v never equals a base token)
  });
});

describe('KvBlockIndex', () => {
  it('matches prompts by token content whatever the engine hashes, per worker block size (16, 32 and 1)', () => {
    const idx = new KvBlockIndex();
    const ids = Array.from({ length: 70 }, (_, i) => 500 + i);
    const e16 = new FakeEngine('salt-a', 16);
    const e32 = new FakeEngine('salt-b', 32);
    const e1 = new FakeEngine('salt-c', 1);
    idx.apply('w16', e16.store(ids.slice(0, 48)));
    idx.apply('w32', e32.store(ids.slice(0, 64)));
    idx.apply('w1', e1.store(ids.slice(0, 5)));
    expect(idx.blockSizeOf('w16')).toBe(16);
    expect(idx.blockSizeOf('w1')).toBe(1);
    expect(Object.fromEntries(idx.matchTokens(ids))).toEqual({ w16: 48, w32: 64, w1: 5 });
    // A different prompt sharing the first 20 tokens: one 16-block, no 32-block, 5 single tokens.
    const other = [...ids.slice(0, 20), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    expect(Object.fromEntries(idx.matchTokens(other))).toEqual({ w16: 16, w1: 5 });
    idx.reset('w16');
    expect(idx.matchTokens(ids).has('w16')).toBe(false);
  });

  it('applies removals by the engine handle and clears', () => {
    const idx = new KvBlockIndex();
    const e = new FakeEngine('s', 16);
    const ids = Array.from({ length: 40 }, (_, i) => i);
    idx.apply('w1', e.store(ids));
    expect(idx.matchTokens(ids).get('w1')).toBe(32);
    idx.apply('w1', e.evictLeaf(0));
    expect(idx.matchTokens(ids).get('w1')).toBe(16);
    idx.apply('w1', [{ kind: 'cleared' }]);
    expect(idx.matchTokens(ids).size).toBe(0);
  });

  it('cannot place blocks under a parent it never saw (missed in a gap), and says so', () => {
    const idx = new KvBlockIndex();
    const e = new FakeEngine('s', 4);
    const ids = Array.from({ length: 16 }, (_, i) => i);
    e.store(ids.slice(0, 8)); // announced while the gateway was not listening
    idx.apply('w', e.store(ids));
    expect(idx.matchTokens(ids).size).toBe(0);
    expect(idx.unplacedBlocks).toBe(2);
  });

  it('keeps what it knows across a stream gap, confirms it when the engine builds on it, drops stale blocks first when full', () => {
    const idx = new KvBlockIndex(6);
    const e = new FakeEngine('s', 4);
    const a = Array.from({ length: 12 }, (_, i) => i);
    const b = Array.from({ length: 12 }, (_, i) => 100 + i);
    idx.apply('w', e.store(a));
    idx.markStale('w');
    expect(idx.staleSize('w')).toBe(3);
    expect(idx.matchTokens(a).get('w')).toBe(12);
    // The engine extends a stale prefix: the parent is confirmed, the new block indexed.
    idx.apply('w', e.store([...a, 1, 2, 3, 4]));
    expect(idx.staleSize('w')).toBe(2);
    expect(idx.matchTokens([...a, 1, 2, 3, 4]).get('w')).toBe(16);
    // Full (6 blocks): the stale ones make room for new content.
    idx.apply('w', e.store(b));
    expect(idx.staleSize('w')).toBe(0);
    expect(idx.matchTokens(b).get('w')).toBe(12);
    expect(idx.size('w')).toBeLessThanOrEqual(6);
  });

  it('scopes handles by data-parallel rank', () => {
    const idx = new KvBlockIndex();
    const ids = Array.from({ length: 8 }, (_, i) => i);
    const r0 = new FakeEngine('same', 4);
    const r1 = new FakeEngine('same', 4);
    idx.apply('w', r0.store(ids), 0);
    const stored1 = r1.store(ids);
    idx.apply('w', stored1, 1);
    // Rank 1 evicts its copy: rank 0 still holds the content.
    idx.apply('w', [{ kind: 'removed', blockHashes: (stored1[0].blocks ?? []).map((b) => b.blockHash) }], 1);
    expect(idx.matchTokens(ids).get('w')).toBe(8);
  });

  it('matches exactly what each engine caches, under stores and leaf evictions with opaque salted hashes (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 4),
        fc.array(fc.tuple(fc.constantFrom(0, 1), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 24 }), fc.nat(), fc.boolean()), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 24 }),
        (blockSize, ops, query) => {
          const idx = new KvBlockIndex();
          const engines = [new FakeEngine(`salt-${SEED}-0`, blockSize), new FakeEngine(`salt-${SEED}-1`, blockSize)];
          for (const [w, ids, pick, evict] of ops) idx.apply(`w${w}`, evict ? engines[w].evictLeaf(pick) : engines[w].store(ids));
          const got = idx.matchTokens(query);
          engines.forEach((e, w) => expect(got.get(`w${w}`) ?? 0).toBe(e.cached(query)));
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});
