import { SeededRng, VirtualScheduler } from '@drover/runtime';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { encodeSyncStep1, handleSyncMessage } from './doc-sync';
import { RegistryDoc, type RegistryChange } from './registry-doc';

function makeDoc(nodeId: string, clock = new VirtualScheduler(1_000), config: Partial<ConstructorParameters<typeof RegistryDoc>[1]> = {}) {
  return new RegistryDoc({ clock, rng: new SeededRng(nodeId) }, { nodeId, ...config });
}

/**
 * Runs the byte-level protocol both ways until neither side has anything to say, twice: the
 * second exchange is the periodic anti-entropy that carries writes made while adopting an epoch.
 */
function syncPair(a: RegistryDoc, b: RegistryDoc): void {
  exchange(a, b);
  exchange(a, b);
}

function exchange(a: RegistryDoc, b: RegistryDoc): void {
  let toB: Uint8Array | undefined = encodeSyncStep1(a);
  let toA: Uint8Array | undefined = encodeSyncStep1(b);
  for (let round = 0; round < 10 && (toA || toB); round++) {
    const replyFromB: Uint8Array | undefined = toB && handleSyncMessage(b, toB);
    const replyFromA: Uint8Array | undefined = toA && handleSyncMessage(a, toA);
    toA = replyFromB;
    toB = replyFromA;
  }
}

describe('RegistryDoc', () => {
  it('lets the later write win even when Yjs would pick the other client', () => {
    const clockA = new VirtualScheduler(1_000);
    const clockB = new VirtualScheduler(1_000);
    const a = makeDoc('node-a', clockA);
    const b = makeDoc('node-b', clockB);
    // Make the later writer the one with the *lower* Yjs client id: Yjs alone would pick the other.
    const [early, earlyClock, late, lateClock] = a.ydoc.clientID > b.ydoc.clientID ? [a, clockA, b, clockB] : [b, clockB, a, clockA];
    earlyClock.advance(10);
    early.upsertWorker('w1', { url: 'http://early' });
    lateClock.advance(20);
    late.upsertWorker('w1', { url: 'http://late' });
    syncPair(a, b);
    expect(a.worker('w1')).toEqual({ url: 'http://late' });
    expect(b.worker('w1')).toEqual({ url: 'http://late' });
    expect(a.digest()).toBe(b.digest());
  });

  it('resolves a removal against a concurrent older upsert, and a newer upsert against a removal', () => {
    const clock = new VirtualScheduler(1_000);
    const a = makeDoc('node-a', clock);
    const b = makeDoc('node-b', clock);
    a.upsertWorker('w1', { v: 1 });
    syncPair(a, b);
    b.upsertWorker('w1', { v: 2 });
    clock.advance(5);
    a.removeWorker('w1');
    syncPair(a, b);
    expect(a.workers().size).toBe(0);
    expect(b.workers().size).toBe(0);
    clock.advance(5);
    b.upsertWorker('w1', { v: 3 });
    syncPair(a, b);
    expect(a.worker('w1')).toEqual({ v: 3 });
  });

  it('orders writes made after observing a peer even when the local clock lags (hybrid time)', () => {
    const a = makeDoc('node-a', new VirtualScheduler(50_000));
    const b = makeDoc('node-b', new VirtualScheduler(1_000));
    a.setPolicy('m', { policy: 'round_robin' });
    syncPair(a, b);
    b.setPolicy('m', { policy: 'cache_aware' });
    syncPair(a, b);
    expect(a.policies().get('m')).toEqual({ policy: 'cache_aware' });
  });

  it('reports winner changes once, flagged local or remote', () => {
    const clock = new VirtualScheduler(1_000);
    const a = makeDoc('node-a', clock);
    const b = makeDoc('node-b', clock);
    const seenA: RegistryChange[] = [];
    const seenB: RegistryChange[] = [];
    a.onChange((c) => seenA.push(c));
    b.onChange((c) => seenB.push(c));
    a.upsertWorker('w1', { v: 1 });
    a.setHealth('node-a', { healthy: true });
    syncPair(a, b);
    expect(seenA).toEqual([
      { map: 'workers', id: 'w1', value: { v: 1 }, local: true },
      { map: 'health', id: 'node-a', value: { healthy: true }, local: true },
    ]);
    expect(seenB).toHaveLength(2);
    expect(seenB.every((c) => !c.local)).toBe(true);
    clock.advance(1);
    a.removeWorker('w1');
    syncPair(a, b);
    expect(seenB.at(-1)).toEqual({ map: 'workers', id: 'w1', value: undefined, local: false });
  });

  it('compacts into a new epoch that a peer adopts while keeping its own concurrent writes', () => {
    const clock = new VirtualScheduler(1_000);
    const a = makeDoc('node-a', clock);
    const b = makeDoc('node-b', clock);
    for (let i = 0; i < 200; i++) {
      clock.advance(1);
      a.upsertWorker(`w${i % 10}`, { round: i });
    }
    syncPair(a, b);
    const before = a.structCount();
    expect(before).toBeGreaterThanOrEqual(200);
    a.compact();
    expect(a.epoch.n).toBe(1);
    expect(a.structCount()).toBe(10);
    // b writes in the old epoch before hearing of the new one.
    clock.advance(1);
    b.upsertWorker('w-new', { from: 'b' });
    b.removeWorker('w0');
    syncPair(a, b);
    expect(b.epoch).toEqual(a.epoch);
    expect(a.worker('w-new')).toEqual({ from: 'b' });
    expect(a.worker('w0')).toBeUndefined();
    expect(b.workers()).toEqual(a.workers());
    expect(a.digest()).toBe(b.digest());
  });

  it('drops tombstones older than the TTL at compaction', () => {
    const clock = new VirtualScheduler(1_000);
    const a = makeDoc('node-a', clock, { tombstoneTtlMs: 1000 });
    a.upsertWorker('w1', {});
    a.removeWorker('w1');
    a.upsertWorker('w2', {});
    a.removeWorker('w2');
    clock.advance(5000);
    a.upsertWorker('w3', {});
    a.removeWorker('w3');
    a.compact();
    expect([...a.rawEntries('workers').keys()]).toEqual(['w3']);
  });

  it('rejects updates that do not decode without changing state', () => {
    const a = makeDoc('node-a');
    a.upsertWorker('w1', { v: 1 });
    expect(a.applyRemoteUpdate(Uint8Array.of(1, 2, 3, 4, 5))).toBe(false);
    expect(a.diffSince(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    expect(a.adopt({ n: 5, id: 1 }, Uint8Array.of(9, 9, 9))).toBe(false);
    expect(a.epoch).toEqual({ n: 0, id: 0 });
    expect(a.worker('w1')).toEqual({ v: 1 });
  });

  it('uses client ids from the injected rng (replayable)', () => {
    expect(makeDoc('same').ydoc.clientID).toBe(makeDoc('same').ydoc.clientID);
  });

  it('stays bounded under two-writer add/remove churn where a plain Y.Map grows without bound', () => {
    const clock = new VirtualScheduler(1_000);
    const bounds = { compactAboveBytes: 32 * 1024, compactAboveStructs: 2_000 };
    const a = makeDoc('node-a', clock, bounds);
    const b = makeDoc('node-b', clock, bounds);
    // The same churn on plain Y.Maps, kept in sync update by update.
    const plainA = new Y.Doc({ gc: true });
    const plainB = new Y.Doc({ gc: true });
    plainA.on('updateV2', (u: Uint8Array, origin: unknown) => origin !== 'peer' && Y.applyUpdateV2(plainB, u, 'peer'));
    plainB.on('updateV2', (u: Uint8Array, origin: unknown) => origin !== 'peer' && Y.applyUpdateV2(plainA, u, 'peer'));
    let maxStructs = 0;
    let maxBytes = 0;
    const churn = 20_000;
    for (let i = 0; i < churn; i++) {
      clock.advance(1);
      const writer = i % 4 < 2 ? a : b;
      const plain = (i % 4 < 2 ? plainA : plainB).getMap('workers');
      const id = `worker-${i % 20}`;
      if (i % 2 === 0) {
        writer.upsertWorker(id, { url: `http://${id}:8000`, round: i });
        plain.set(id, { url: `http://${id}:8000`, round: i });
      } else {
        writer.removeWorker(id);
        plain.delete(id);
      }
      if (i % 50 === 49) syncPair(a, b);
      if (i % 250 === 249) {
        const size = a.measure();
        maxStructs = Math.max(maxStructs, size.structs, b.structCount());
        maxBytes = Math.max(maxBytes, size.bytes);
        if (a.needsCompaction(size)) a.compact();
      }
    }
    syncPair(a, b);
    const plainStructs = [...plainA.store.clients.values()].reduce((n, s) => n + s.length, 0);
    expect(a.compactions).toBeGreaterThan(3);
    expect(b.epoch).toEqual(a.epoch);
    // Measured every 250 writes, so the document may overshoot the bound by one interval.
    expect(maxStructs).toBeLessThan(bounds.compactAboveStructs + 600);
    expect(maxBytes).toBeLessThan(bounds.compactAboveBytes);
    expect(plainStructs).toBeGreaterThanOrEqual(churn / 2);
    expect(a.workers()).toEqual(b.workers());
    expect(a.digest()).toBe(b.digest());
  });
});
