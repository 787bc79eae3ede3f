import { describe, expect, it } from 'vitest';
import { BroadcastQueue } from './broadcast-queue';

const bytes = (tag: number, size = 10) => new Uint8Array(size).fill(tag);

describe('BroadcastQueue', () => {
  it('retransmits each item up to the limit, then drops it', () => {
    const q = new BroadcastQueue(() => 3);
    q.enqueue(bytes(1));
    for (let i = 0; i < 3; i++) expect(q.take(0, 100).map((b) => b[0])).toEqual([1]);
    expect(q.take(0, 100)).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('newer gossip about a member invalidates the older one', () => {
    const q = new BroadcastQueue(() => 5);
    q.enqueue(bytes(1), 'node-a');
    q.enqueue(bytes(2), 'node-b');
    q.enqueue(bytes(3), 'node-a');
    expect(q.size).toBe(2);
    expect(q.take(0, 100).map((b) => b[0]).sort()).toEqual([2, 3]);
  });

  it('sends least-transmitted (then newest) first and respects the byte budget', () => {
    const q = new BroadcastQueue(() => 10);
    q.enqueue(bytes(1));
    q.take(0, 100);
    q.enqueue(bytes(2));
    q.enqueue(bytes(3));
    // Budget for two items of 10 bytes + 3 overhead each.
    expect(q.take(3, 26).map((b) => b[0])).toEqual([3, 2]);
    // Now all were sent once: newest first again.
    expect(q.take(3, 13).map((b) => b[0])).toEqual([3]);
    expect(q.take(3, 26).map((b) => b[0])).toEqual([2, 1]);
  });

  it('is bounded: overflow drops the most-transmitted items', () => {
    const q = new BroadcastQueue(() => 100, 3);
    q.enqueue(bytes(1));
    q.take(0, 10);
    q.enqueue(bytes(2));
    q.enqueue(bytes(3));
    q.enqueue(bytes(4));
    expect(q.size).toBe(3);
    expect(q.take(0, 100).map((b) => b[0])).toEqual([4, 3, 2]);
  });

  it('uses the current limit (it grows with the cluster)', () => {
    let limit = 1;
    const q = new BroadcastQueue(() => limit);
    q.enqueue(bytes(1));
    limit = 2;
    q.take(0, 100);
    expect(q.size).toBe(1);
  });
});
