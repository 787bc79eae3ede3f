import { describe, expect, it } from 'vitest';
import { DroverError, VirtualScheduler } from '@drover/runtime';
import { AdmissionQueue } from './admission-queue';
import { TokenBucket } from './token-bucket';

describe('AdmissionQueue', () => {
  it('admits up to the cap, queues FIFO, and hands the slot over on release', async () => {
    const s = new VirtualScheduler();
    const q = new AdmissionQueue({ maxConcurrent: 2, maxQueued: 2, queueTimeoutMs: 1000 }, s);
    const r1 = await q.acquire();
    await q.acquire();
    const order: number[] = [];
    const p3 = q.acquire().then((r) => (order.push(3), r));
    const p4 = q.acquire().then((r) => (order.push(4), r));
    expect(q.queued).toBe(2);
    await expect(q.acquire()).rejects.toMatchObject({ code: 'queue_full', retryAfterSeconds: 1 });
    r1();
    r1(); // releasing twice is harmless
    const r3 = await p3;
    expect(order).toEqual([3]);
    expect(q.inFlight).toBe(2);
    r3();
    await p4;
    expect(order).toEqual([3, 4]);
  });

  it('times a queued request out with queue_timeout', async () => {
    const s = new VirtualScheduler();
    const q = new AdmissionQueue({ maxConcurrent: 1, maxQueued: 5, queueTimeoutMs: 500 }, s);
    await q.acquire();
    const p = q.acquire();
    s.advance(500);
    const err = await p.catch((e) => e);
    expect(DroverError.is(err, 'queue_timeout')).toBe(true);
    expect(q.queued).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('spends, refills at the per-minute rate, and reports the wait', () => {
    const b = new TokenBucket(10, 60, 0);
    expect(b.take(10, 0)).toBe(0);
    expect(b.take(1, 0)).toBe(1000);
    expect(b.take(1, 1000)).toBe(0);
    b.charge(5, 1000);
    expect(b.available(1000)).toBe(-5);
    expect(b.available(61_000)).toBe(10);
  });

  it('waitFor reports the wait without spending', () => {
    const b = new TokenBucket(10, 60, 0);
    expect(b.waitFor(10, 0)).toBe(0);
    expect(b.waitFor(10, 0)).toBe(0);
    expect(b.available(0)).toBe(10);
    expect(b.waitFor(12, 0)).toBe(2000);
    expect(b.take(4, 0)).toBe(0);
    expect(b.waitFor(8, 0)).toBe(2000);
    expect(b.available(0)).toBe(6);
  });
});
