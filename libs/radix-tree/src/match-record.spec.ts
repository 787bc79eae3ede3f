import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOp, decodeOps, encodeOps, type TreeOp } from './ops-codec';
import { PrefixShards } from './prefix-shards';
import { RadixTree } from './radix-tree';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec';
import { TextRadixTree } from './text-radix-tree';

const SEED = Number(process.env.RADIX_SEED ?? 11);
const runs = { numRuns: 200, seed: SEED };
const seqArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 10 });
const ownerArb = fc.constantFrom('w0', 'w1', 'w2');

function longestCommon(seqs: readonly (readonly number[])[], q: readonly number[]): number {
  let best = 0;
  for (const s of seqs) {
    let k = 0;
    while (k < s.length && k < q.length && s[k] === q[k]) k++;
    best = Math.max(best, k);
  }
  return best;
}

/** What happens between a match and its record: nothing, another insert, or a removal (which can make the cursor stale). */
const betweenArb = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('insert' as const), seq: seqArb, owner: ownerArb }),
  fc.record({ kind: fc.constant('remove' as const), owner: ownerArb }),
);

describe('match → recordFrom (one walk)', () => {
  it('records exactly what a full insert records, whatever changed the tree in between, evictions included (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(seqArb, ownerArb, betweenArb), { maxLength: 30 }), fc.constantFrom(15, 1e9), (steps, budget) => {
        const viaCursor = new RadixTree(budget);
        const viaInsert = new RadixTree(budget);
        let time = 0;
        for (const [seq, owner, between] of steps) {
          const before = viaInsert.match(seq).perOwner.get(owner) ?? 0;
          const m = viaCursor.match(seq);
          const t = ++time;
          for (const tree of [viaCursor, viaInsert]) {
            if (between.kind === 'insert') tree.insert(between.seq, between.owner, t);
            if (between.kind === 'remove') tree.removeOwner(between.owner, t);
          }
          const recordTime = ++time;
          const heldNow = viaInsert.match(seq).perOwner.get(owner) ?? 0;
          const rec = viaCursor.recordFrom(m.cursor, owner, recordTime);
          viaInsert.insert(seq, owner, recordTime);
          expect(viaCursor.digest()).toBe(viaInsert.digest());
          expect([viaCursor.tokens, viaCursor.nodes]).toEqual([viaInsert.tokens, viaInsert.nodes]);
          // What the owner held just before the record (after whatever happened in between).
          expect(rec.heldBefore).toBe(heldNow);
          if (between.kind === 'none') expect(rec.heldBefore).toBe(before);
        }
      }),
      runs,
    );
  });

  it('works on wide nodes: linear children, sorted children and the Map past CHILD_MAP_AT', () => {
    const tree = new RadixTree();
    const model = new Map<string, number[][]>();
    for (let k = 0; k < 700; k++) {
      const seq = [(k * 7919) % 1000, k % 3, k];
      const owner = `w${k % 5}`;
      tree.recordFrom(tree.match(seq).cursor, owner);
      model.set(owner, [...(model.get(owner) ?? []), seq]);
    }
    for (let k = 0; k < 700; k += 7) tree.removeOwner(`w${k % 5}`, 0); // a no-op removal: nothing at or before time 0
    for (let q = 0; q < 1000; q += 3) {
      const query = [q, q % 3, 5];
      const expected = new Map([...model].map(([o, seqs]) => [o, longestCommon(seqs, query)] as const).filter(([, n]) => n > 0));
      expect(Object.fromEntries(tree.match(query).perOwner)).toEqual(Object.fromEntries(expected));
    }
    expect(decodeSnapshot(encodeSnapshot(tree))!.digest()).toBe(tree.digest());
    tree.removeOwner('w0');
    tree.removeOwner('w1');
    model.delete('w0');
    model.delete('w1');
    for (let q = 0; q < 1000; q += 11) {
      const query = [q, q % 3];
      const expected = new Map([...model].map(([o, seqs]) => [o, longestCommon(seqs, query)] as const).filter(([, n]) => n > 0));
      expect(Object.fromEntries(tree.match(query).perOwner)).toEqual(Object.fromEntries(expected));
    }
  });
});

describe('withdraw', () => {
  type Step = { kind: 'insert'; seq: number[]; owner: string } | { kind: 'record'; seq: number[]; owner: string; withdrawAfter: number };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), seq: seqArb, owner: ownerArb }),
    fc.record({ kind: fc.constant('record' as const), seq: seqArb, owner: ownerArb, withdrawAfter: fc.integer({ min: 0, max: 5 }) }),
  );

  /**
   * Runs the steps; each record is withdrawn `withdrawAfter` steps later. Returns the tree, the ops
   * it emitted, and the model: every plain or confirmed insert, and of each withdrawn record the
   * prefix it kept (what the owner held when it was recorded, at the record's time).
   */
  function run(steps: readonly Step[], withdrawAll: boolean) {
    const tree = new RadixTree();
    const ops: TreeOp[] = [];
    const pending: { at: number; seq: number[]; owner: string; time: number; keepLen: number }[] = [];
    const kept: { seq: number[]; owner: string; time: number }[] = [];
    let time = 0;
    const due = (k: number) => {
      for (const p of pending.filter((x) => x.at <= k)) {
        tree.withdraw(p.seq, p.owner, p.time, p.keepLen);
        ops.push({ kind: 'withdraw', seq: Uint32Array.from(p.seq), owner: p.owner, time: p.time, keepLen: p.keepLen });
        kept.push({ seq: p.seq.slice(0, p.keepLen), owner: p.owner, time: p.time });
      }
      pending.splice(0, pending.length, ...pending.filter((x) => x.at > k));
    };
    steps.forEach((step, k) => {
      const t = ++time;
      if (step.kind === 'insert') {
        tree.insert(step.seq, step.owner, t);
        kept.push({ seq: step.seq, owner: step.owner, time: t });
      } else {
        const rec = tree.recordFrom(tree.match(step.seq).cursor, step.owner, t);
        if (withdrawAll || step.withdrawAfter < 4) pending.push({ at: k + step.withdrawAfter, seq: step.seq, owner: step.owner, time: t, keepLen: rec.heldBefore });
        else kept.push({ seq: step.seq, owner: step.owner, time: t });
      }
      ops.push({ kind: 'insert', seq: Uint32Array.from(step.seq), owner: step.owner, time: t });
      due(k);
    });
    due(Number.POSITIVE_INFINITY);
    return { tree, ops, kept };
  }

  it('matches as if each withdrawn record had only touched what its worker already held, with other inserts in between (property)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 30 }), fc.array(seqArb, { minLength: 1, maxLength: 8 }), (steps, queries) => {
        const { tree, kept } = run(steps, false);
        for (const q of queries) {
          const byOwner = new Map<string, number[][]>();
          for (const s of kept) byOwner.set(s.owner, [...(byOwner.get(s.owner) ?? []), s.seq]);
          const expected = new Map([...byOwner].map(([o, seqs]) => [o, longestCommon(seqs, q)] as const).filter(([, n]) => n > 0));
          expect(Object.fromEntries(tree.match(q).perOwner)).toEqual(Object.fromEntries(expected));
        }
        let tokens = 0;
        tree.walk((n) => (tokens += n.edge.length));
        expect(tokens).toBe(tree.tokens);
      }),
      runs,
    );
  });

  it('withdrawing every record leaves the tree the plain inserts and kept prefixes build (nodes reclaimed, same times)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), (steps) => {
        const { tree, kept } = run(steps, true);
        const plain = new RadixTree();
        for (const k of kept) plain.insert(k.seq, k.owner, k.time);
        expect(tree.digest()).toBe(plain.digest());
        expect(tree.tokens).toBe(plain.tokens);
      }),
      runs,
    );
  });

  it('replicas converge whatever order the inserts and withdrawals arrive in, applied once or twice, through the wire form (property)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), fc.integer(), (steps, seed) => {
        const { tree, ops } = run(steps, false);
        const wire = decodeOps(encodeOps(ops))!;
        expect(wire.map((o) => o.kind)).toEqual(ops.map((o) => o.kind));
        const inOrder = new RadixTree();
        wire.forEach((op) => applyOp(inOrder, op));
        expect(inOrder.digest()).toBe(tree.digest());
        const shuffled = wire.map((op, i) => ({ op, key: Math.sin(seed + i) })).sort((a, b) => a.key - b.key).map((x) => x.op);
        const replica = new RadixTree();
        [...shuffled, ...shuffled].forEach((op) => applyOp(replica, op));
        expect(replica.digest()).toBe(tree.digest());
      }),
      runs,
    );
  });

  it('keeps what the worker held before, and what it used again since', () => {
    const tree = new RadixTree();
    tree.insert([1, 2, 3], 'a', 1);
    const rec = tree.recordFrom(tree.match([1, 2, 3, 4, 5]).cursor, 'a', 2);
    expect(rec.heldBefore).toBe(3);
    tree.insert([1, 2, 3, 4, 9], 'a', 3); // a later request through [1 2 3 4]
    tree.withdraw([1, 2, 3, 4, 5], 'a', rec.time, rec.heldBefore);
    expect(tree.match([1, 2, 3, 4, 5]).perOwner.get('a')).toBe(4);
    tree.withdraw([1, 2, 3, 4, 5], 'a', rec.time, rec.heldBefore); // twice: nothing more
    expect(tree.match([1, 2, 3, 4, 9]).perOwner.get('a')).toBe(5);
    const alone = new RadixTree();
    const r = alone.recordFrom(alone.match([7, 8, 9]).cursor, 'b');
    alone.withdraw([7, 8, 9], 'b', r.time, r.heldBefore);
    expect([alone.nodes, alone.tokens, alone.match([7, 8, 9]).length]).toEqual([1, 0, 0]);
  });
});

describe('PrefixShards: match, recordFrom, withdraw', () => {
  it('record from a match equals record, ships the same op, and a withdrawal reaches peers', () => {
    const system = Array.from({ length: 40 }, (_, i) => 100 + i);
    const a = new PrefixShards(1e9);
    const twin = new PrefixShards(1e9);
    const peer = new PrefixShards(1e9);
    const first = a.recordFrom(a.match([...system, 1]), 'w1');
    const same = twin.record([...system, 1], 'w1');
    expect(first.op).toEqual(same);
    const m = a.match([...system, 2, 3]);
    expect(m.perOwner.get('w1')).toBe(40);
    const second = a.recordFrom(m, 'w2');
    expect(second.op.kind === 'insert' && second.op.baseLen).toBe(32);
    expect(second.heldBefore).toBe(0);
    for (const op of decodeOps(encodeOps([first.op, second.op]))!) peer.applyOp('a', op);
    expect(peer.match([...system, 2, 3]).perOwner.get('w2')).toBe(42);
    const withdrawal = a.withdraw(second);
    expect(a.match([...system, 2, 3]).perOwner.get('w2')).toBeUndefined();
    peer.applyOp('a', decodeOps(encodeOps([withdrawal]))![0]);
    expect(peer.match([...system, 2, 3]).perOwner.get('w2')).toBeUndefined();
    expect(peer.digestOf('a')).toBe(a.digestOf('local'));
  });

  it('the text tree offers the same one-walk record and withdrawal', () => {
    const t = new TextRadixTree();
    t.insert('You are a helpful assistant. Hi', 'w1');
    const m = t.match('You are a helpful assistant. Bye');
    expect(m.perOwner.get('w1')).toBe('You are a helpful assistant. '.length);
    const rec = t.recordFrom(m, 'w2');
    expect(t.match('You are a helpful assistant. Bye').best).toBe('w2');
    t.withdraw('You are a helpful assistant. Bye', 'w2', rec);
    expect(t.match('You are a helpful assistant. Bye').perOwner.get('w2')).toBeUndefined();
    expect(t.match('You are a helpful assistant. Bye').best).toBe('w1');
  });
});
