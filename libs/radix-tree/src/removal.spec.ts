import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOp, decodeOps, encodeOps, type TreeOp } from './ops-codec';
import { RadixTree } from './radix-tree';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec';

const SEED = Number(process.env.RADIX_SEED ?? 7);
const runs = { numRuns: 200, seed: SEED };
const seqArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 10 });
const ownerArb = fc.constantFrom('w0', 'w1', 'w2');

/** Inserts and removals with distinct logical times, as one origin would emit them. */
const opsArb = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.tuple(fc.constant('insert' as const), seqArb, ownerArb) }, { weight: 1, arbitrary: fc.tuple(fc.constant('remove' as const), fc.constant([] as number[]), ownerArb) }), { minLength: 1, maxLength: 40 })
  .map((raw) =>
    raw.map(([kind, seq, owner], i): TreeOp => (kind === 'insert' ? { kind: 'insert', seq: Uint32Array.from(seq), owner, time: i + 1 } : { kind: 'remove_owner', owner, time: i + 1 })),
  );

/** The naive model of a replica: an insert survives unless its owner was removed at a later time. */
function naive(ops: readonly TreeOp[]): Map<string, number[][]> {
  const removed = new Map<string, number>();
  for (const op of ops) if (op.kind === 'remove_owner') removed.set(op.owner, Math.max(removed.get(op.owner) ?? 0, op.time));
  const out = new Map<string, number[][]>();
  for (const op of ops) if (op.kind === 'insert' && op.time > (removed.get(op.owner) ?? 0)) out.set(op.owner, [...(out.get(op.owner) ?? []), [...op.seq]]);
  return out;
}

function longestCommon(seqs: number[][], q: number[]): number {
  let best = 0;
  for (const s of seqs) {
    let k = 0;
    while (k < s.length && k < q.length && s[k] === q[k]) k++;
    best = Math.max(best, k);
  }
  return best;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  return items.map((item, i) => ({ item, key: Math.sin(seed * 31 + i) })).sort((a, b) => a.key - b.key).map((x) => x.item);
}

describe('removals as ops', () => {
  it('inserts and removals converge in any order, applied once or twice, and match the naive model (property)', () => {
    fc.assert(
      fc.property(opsArb, fc.integer(), fc.array(seqArb, { minLength: 1, maxLength: 6 }), (ops, seed, queries) => {
        const inOrder = new RadixTree();
        ops.forEach((op) => applyOp(inOrder, op));
        const other = new RadixTree();
        const order = shuffled(ops, seed);
        [...order, ...shuffled(ops, seed + 1)].forEach((op) => applyOp(other, op));
        expect(other.digest()).toBe(inOrder.digest());
        const model = naive(ops);
        for (const q of queries) {
          const m = other.match(q);
          const expected = new Map([...model].map(([o, seqs]) => [o, longestCommon(seqs, q)] as const).filter(([, n]) => n > 0));
          expect(Object.fromEntries(m.perOwner)).toEqual(Object.fromEntries(expected));
        }
        // The wire form carries removals too.
        const back = decodeOps(encodeOps(ops))!;
        const replayed = new RadixTree();
        back.forEach((op) => applyOp(replayed, op));
        expect(replayed.digest()).toBe(inOrder.digest());
      }),
      runs,
    );
  });

  it('removeWorker merges chains back, so the tree equals one that never held the worker', () => {
    const t = new RadixTree();
    t.insert([1, 2, 3, 4], 'a', 1);
    t.insert([1, 2, 9], 'b', 2);
    t.insert([1, 2, 3, 4, 5], 'b', 3);
    expect(t.nodes).toBeGreaterThan(3);
    t.removeWorker('b');
    const fresh = new RadixTree();
    fresh.insert([1, 2, 3, 4], 'a', 1);
    expect(t.nodes).toBe(fresh.nodes);
    expect(t.tokens).toBe(4);
    expect(t.digest()).toBe(fresh.digest());
    expect(decodeSnapshot(encodeSnapshot(t))!.digest()).toBe(fresh.digest());
  });

  it('a removal keeps what the worker inserted after it, and a stale insert never resurrects it', () => {
    const t = new RadixTree();
    t.insert([1, 2, 3], 'a', 5);
    t.removeOwner('a', 6);
    t.insert([7, 8], 'a', 4); // delayed op from before the removal
    expect(t.match([1, 2, 3]).length).toBe(0);
    expect(t.match([7, 8]).length).toBe(0);
    t.insert([7, 8], 'a', 9);
    expect(t.match([7, 8]).perOwner.get('a')).toBe(2);
    t.removeOwner('a', 8); // an older removal arriving late changes nothing
    expect(t.match([7, 8]).perOwner.get('a')).toBe(2);
  });

  it('digest ignores how edges are split but not owners or times', () => {
    const a = new RadixTree();
    a.insert([1, 2, 3], 'x', 1);
    const b = new RadixTree();
    b.insert([1, 2, 3], 'x', 1);
    b.insert([1, 2, 5], 'y', 2);
    b.removeOwner('y', 3);
    expect(b.digest()).toBe(a.digest());
    const c = new RadixTree();
    c.insert([1, 2, 3], 'x', 2);
    expect(c.digest()).not.toBe(a.digest());
  });
});
