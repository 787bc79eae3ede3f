import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOp, decodeOps, encodeOps, type TreeOp } from './ops-codec';
import { RadixTree } from './radix-tree';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec';
import { treeDigest } from './digest';
import { TextRadixTree } from './text-radix-tree';
import { PrefixShards } from './prefix-shards';

/** The naive model: every sequence each owner inserted; a match is the longest common prefix. */
function naiveMatch(model: Map<string, number[][]>, seq: number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [owner, seqs] of model) {
    let best = 0;
    for (const s of seqs) {
      let k = 0;
      while (k < s.length && k < seq.length && s[k] === seq[k]) k++;
      best = Math.max(best, k);
    }
    if (best > 0) out.set(owner, best);
  }
  return out;
}

const seqArb = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 });
const ownerArb = fc.constantFrom('w0', 'w1', 'w2');
const SEED = Number(process.env.RADIX_SEED ?? 42);
const runs = { numRuns: 150, seed: SEED };

describe('RadixTree', () => {
  it('matches like the naive model (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(seqArb, ownerArb), { maxLength: 30 }), fc.array(seqArb, { minLength: 1, maxLength: 10 }), (inserts, queries) => {
        const tree = new RadixTree();
        const model = new Map<string, number[][]>();
        for (const [seq, owner] of inserts) {
          tree.insert(seq, owner);
          model.set(owner, [...(model.get(owner) ?? []), seq]);
        }
        for (const q of queries) {
          const m = tree.match(q);
          expect(Object.fromEntries(m.perOwner)).toEqual(Object.fromEntries(naiveMatch(model, q)));
          const best = Math.max(0, ...naiveMatch(model, q).values());
          expect(m.length).toBe(best);
        }
        let tokens = 0;
        tree.walk((n) => (tokens += n.edge.length));
        expect(tokens).toBe(tree.tokens);
      }),
      runs,
    );
  });

  it('never exceeds its token budget, and evicts least recently used first', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 40 }), ownerArb), { maxLength: 60 }), (inserts) => {
        const tree = new RadixTree(100);
        for (const [seq, owner] of inserts) {
          tree.insert(seq, owner);
          expect(tree.tokens).toBeLessThanOrEqual(100);
        }
      }),
      runs,
    );
    const tree = new RadixTree(20);
    tree.insert([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'old');
    tree.insert([20, 21, 22, 23, 24, 25, 26, 27, 28, 29], 'new');
    tree.insert([40, 41, 42], 'newest');
    expect(tree.match([1, 2, 3]).length).toBe(0);
    expect(tree.match([20, 21]).length).toBe(2);
    expect(tree.evictions).toBeGreaterThan(0);
  });

  it('keeps its edges intact through evictions that recycle the token slab many times over', () => {
    const tree = new RadixTree(500);
    let x = 1;
    const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
    const recent: number[][] = [];
    // ~200k tokens written against a 500-token budget: the slab is compacted many times.
    for (let k = 0; k < 5000; k++) {
      const seq = [k % 7, ...Array.from({ length: 39 }, () => next() % 1000)];
      tree.insert(seq, `w${k % 3}`);
      recent.push(seq);
      if (recent.length > 3) recent.shift();
      expect(tree.tokens).toBeLessThanOrEqual(500);
    }
    for (const [k, seq] of recent.entries()) expect(tree.match(seq).perOwner.get(`w${(5000 - 3 + k) % 3}`)).toBe(40);
    let tokens = 0;
    tree.walk((n) => (tokens += n.edge.length));
    expect(tokens).toBe(tree.tokens);
    expect(decodeSnapshot(encodeSnapshot(tree))!.digest()).toBe(tree.digest());
  });

  it('removeOwner reclaims nodes nobody owns', () => {
    const tree = new RadixTree();
    tree.insert([1, 2, 3, 4], 'a');
    tree.insert([1, 2, 9, 9], 'b');
    tree.removeOwner('a');
    expect(tree.match([1, 2, 3, 4]).perOwner.get('a')).toBeUndefined();
    expect(tree.match([1, 2, 3, 4]).length).toBe(2);
    tree.removeOwner('b');
    expect(tree.nodes).toBe(1);
    expect(tree.tokens).toBe(0);
  });

  it('breaks ties by most recent use', () => {
    const tree = new RadixTree();
    tree.insert([1, 2, 3], 'a');
    tree.insert([1, 2, 3], 'b');
    expect(tree.match([1, 2, 3]).best).toBe('b');
    tree.insert([1, 2, 3], 'a');
    expect(tree.match([1, 2, 3]).best).toBe('a');
  });

  it('has a text variant', () => {
    const t = new TextRadixTree();
    t.insert('You are a helpful assistant. Hi', 'w1');
    expect(t.match('You are a helpful assistant. Bye').perOwner.get('w1')).toBe('You are a helpful assistant. '.length);
  });
});

describe('tree codecs', () => {
  it('snapshot round-trips (property): decode(encode(tree)) equals tree', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(seqArb, ownerArb), { maxLength: 40 }), (inserts) => {
        const tree = new RadixTree(1000);
        for (const [seq, owner] of inserts) tree.insert(seq, owner);
        const back = decodeSnapshot(encodeSnapshot(tree))!;
        expect(back).toBeDefined();
        expect(treeDigest(back)).toBe(treeDigest(tree));
        expect(back.tokens).toBe(tree.tokens);
        expect(back.nodes).toBe(tree.nodes);
        expect(back.budgetTokens).toBe(1000);
      }),
      runs,
    );
  });

  it('ops round-trip and converge in any delivery order, applied once or twice', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(seqArb, ownerArb), { minLength: 1, maxLength: 30 }), fc.integer(), (inserts, shuffleSeed) => {
        const ops: TreeOp[] = inserts.map(([seq, owner], i) => ({ kind: 'insert', seq: Uint32Array.from(seq), owner, time: i + 1 }));
        const decoded = decodeOps(encodeOps(ops))!;
        expect(decoded.map((o) => ({ ...o, seq: o.kind === 'insert' ? [...o.seq] : [] }))).toEqual(ops.map((o) => ({ ...o, seq: o.kind === 'insert' ? [...o.seq] : [] })));
        const inOrder = new RadixTree();
        for (const op of ops) applyOp(inOrder, op);
        const shuffled = new RadixTree();
        const order = ops.map((op, i) => ({ op, key: Math.sin(shuffleSeed + i) }));
        order.sort((a, b) => a.key - b.key);
        for (const { op } of [...order, ...order]) applyOp(shuffled, op);
        expect(treeDigest(shuffled)).toBe(treeDigest(inOrder));
      }),
      runs,
    );
  });

  it('decoders reject malformed input without throwing', () => {
    const tree = new RadixTree();
    tree.insert([1, 2, 3], 'a');
    tree.insert([1, 5], 'b');
    const snap = encodeSnapshot(tree);
    const ops = encodeOps([{ kind: 'insert', seq: Uint32Array.from([1, 2]), owner: 'a', time: 1 }]);
    for (const bytes of [snap, ops]) {
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(() => decodeSnapshot(bytes.subarray(0, cut))).not.toThrow();
        expect(() => decodeOps(bytes.subarray(0, cut))).not.toThrow();
      }
    }
    expect(decodeSnapshot(snap.subarray(0, snap.length - 1))).toBeUndefined();
    expect(decodeOps(ops.subarray(0, ops.length - 1))).toBeUndefined();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      expect(() => decodeSnapshot(junk)).not.toThrow();
      expect(() => decodeOps(junk)).not.toThrow();
    }), runs);
    // Size caps are checked before allocating.
    expect(decodeSnapshot(snap, { maxNodes: 1 })).toBeUndefined();
    expect(decodeOps(ops, 0)).toBeUndefined();
  });
});

describe('PrefixShards compact ops', () => {
  it('ship known prefixes as hashes and resolve them on peers, across origins', async () => {

    const a = new PrefixShards(1e9);
    const b = new PrefixShards(1e9);
    const c = new PrefixShards(1e9);
    const system = Array.from({ length: 300 }, (_, i) => 1000 + i);
    const first = a.record([...system, 1, 2, 3], 'w1');
    for (const peer of [b, c]) peer.applyOp('a', decodeOps(encodeOps([first]))![0]);
    // b routes the follow-up: it extends what a shipped, so only the tail travels.
    const follow = b.record([...system, 1, 2, 3, 4, 5, 6], 'w1');
    const wire = encodeOps([follow]);
    expect(wire.length).toBeLessThan(80);
    const decoded = decodeOps(wire)![0];
    expect(decoded.kind).toBe('insert_ref');
    c.applyOp('b', decoded);
    a.applyOp('b', decoded);
    expect(c.replica('b')!.match([...system, 1, 2, 3, 4, 5, 6]).length).toBe(306);
    expect(a.replica('b')!.match([...system, 1, 2, 3, 4, 5, 6]).length).toBe(306);
    // A peer that never saw the base counts the op as unresolved instead of guessing.
    const stranger = new PrefixShards(1e9);
    stranger.applyOp('b', decoded);
    expect(stranger.unresolvedOps).toBe(1);
    // After a snapshot the peer can resolve references into it.
    stranger.applySnapshot('a', a.encodeSnapshot());
    stranger.applyOp('b', decoded);
    expect(stranger.replica('b')!.match([...system, 1, 2, 3, 4, 5, 6]).length).toBe(306);
  });
});

describe('default budget', () => {
  it('a tree created without a budget is still bounded', () => {
    expect(Number.isFinite(new RadixTree().budgetTokens)).toBe(true);
    expect(Number.isFinite(new TextRadixTree().tree.budgetTokens)).toBe(true);
  });
});

describe('PrefixShards: a compact op waits for a base that is still on its way', () => {
  const system = Array.from({ length: 300 }, (_, i) => 5000 + i);
  // a routes a prompt; b extends it (shipping only a reference to a's prefix plus the tail).
  const setup = () => {
    const a = new PrefixShards(1e9);
    const b = new PrefixShards(1e9);
    const first = decodeOps(encodeOps([a.record([...system, 1, 2, 3], 'w1')]))![0];
    b.applyOp('a', first);
    const follow = decodeOps(encodeOps([b.record([...system, 1, 2, 3, 4, 5, 6], 'w2')]))![0];
    expect(follow.kind).toBe('insert_ref');
    return { a, b, first, follow };
  };

  it("b's op arriving before a's (no order across origins) is applied once a's arrives, and the replicas match", () => {
    const { b, first, follow } = setup();
    const c = new PrefixShards(1e9);
    c.applyOp('b', follow);
    expect([c.unresolvedOps, c.pendingOps]).toEqual([1, 1]);
    expect(c.replica('b')?.match([...system, 1, 2, 3, 4, 5, 6]).length ?? 0).toBe(0);
    c.applyOp('a', first);
    expect([c.pendingOps, c.droppedOps]).toEqual([0, 0]);
    expect(c.replica('b')!.match([...system, 1, 2, 3, 4, 5, 6]).length).toBe(306);
    expect(c.digestOf('b')).toBe(b.digestOf('local'));
  });

  it('a snapshot carrying the base releases the waiting op too', () => {
    const { a, b, follow } = setup();
    const c = new PrefixShards(1e9);
    c.applyOp('b', follow);
    c.applySnapshot('a', a.encodeSnapshot());
    expect(c.pendingOps).toBe(0);
    expect(c.digestOf('b')).toBe(b.digestOf('local'));
  });

  it("an origin dropped while its op waits is not recreated when the base arrives", () => {
    const { first, follow } = setup();
    const c = new PrefixShards(1e9);
    c.applyOp('b', follow);
    c.dropOrigin('b');
    expect(c.pendingOps).toBe(0);
    c.applyOp('a', first);
    expect(c.replica('b')).toBeUndefined();
  });
});

describe('PrefixShards: content digests for anti-entropy', () => {
  const system = Array.from({ length: 300 }, (_, i) => 5000 + i);

  it('a re-snapshot of an origin replaces the ops parked for a base that will never come', () => {
    const a = new PrefixShards(1e9);
    const b = new PrefixShards(1e9);
    b.applyOp('a', decodeOps(encodeOps([a.record([...system, 1, 2, 3], 'w1')]))![0]);
    const follow = decodeOps(encodeOps([b.record([...system, 1, 2, 3, 4, 5, 6], 'w2')]))![0];
    // c gets b's compact op but never a's shard (a crashed before it reached c): it parks.
    const c = new PrefixShards(1e9);
    c.applyOp('b', follow);
    expect(c.pendingOps).toBe(1);
    expect(c.contentDigest('b')).not.toBe(b.contentDigest());
    // Anti-entropy pulls b's snapshot: the replica is right and the parked op is gone with it.
    c.applySnapshot('b', b.encodeSnapshot());
    expect(c.pendingOps).toBe(0);
    expect(c.contentDigest('b')).toBe(b.contentDigest());
    // The base showing up later must not re-apply the parked op on top of the snapshot.
    c.applyOp('a', decodeOps(encodeOps([{ kind: 'insert', seq: Uint32Array.from([...system, 1, 2, 3]), owner: 'w1', time: 1 }]))![0]);
    expect(c.contentDigest('b')).toBe(b.contentDigest());
  });

  it('digests follow every change (cached only while a tree is unchanged); an empty and a missing shard agree', () => {
    const a = new PrefixShards(1e9);
    const b = new PrefixShards(1e9);
    expect(a.contentDigest()).toBe('empty');
    expect(b.contentDigest('a')).toBe('empty');
    const op1 = a.record([...system, 1], 'w1');
    b.applyOp('a', op1);
    const d1 = a.contentDigest();
    expect(d1).not.toBe('empty');
    expect(b.contentDigest('a')).toBe(d1);
    expect(a.contentDigest()).toBe(d1);
    const op2 = a.record([...system, 2], 'w2');
    expect(a.contentDigest()).not.toBe(d1);
    expect(b.contentDigest('a')).toBe(d1);
    b.applyOp('a', op2);
    expect(b.contentDigest('a')).toBe(a.contentDigest());
    const removal = a.removeWorker('w2');
    expect(a.contentDigest()).toBe(d1);
    b.applyOp('a', removal);
    expect(b.contentDigest('a')).toBe(d1);
  });
});
