import { describe, expect, it } from 'vitest';
import { noopLogger, VirtualScheduler, type Metrics } from '@drover/runtime';
import { WorkerRpcError, type KvEventBatch, type WorkerClient } from '@drover/worker-proto';
import { KvEventSubscriber } from './kv-event-subscriber';

const batch = (seq: number, timestamp = 0): KvEventBatch => ({ sequenceNumber: seq, timestamp, events: [] });

/** A worker whose n-th subscription streams the n-th list of batches, then stays open until aborted. */
function fakeClient(streams: KvEventBatch[][], failWith?: Error): WorkerClient & { subscriptions: number } {
  const client = {
    subscriptions: 0,
    async *subscribeKvEvents(_start: number, opts: { signal?: AbortSignal }) {
      const mine = streams[client.subscriptions++] ?? [];
      if (failWith) throw failWith;
      for (const b of mine) yield b;
      await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
  return client as unknown as WorkerClient & { subscriptions: number };
}

function recordingMetrics(): Metrics & { values: Map<string, number> } {
  const values = new Map<string, number>();
  return {
    values,
    inc: (name: string, _l?: Record<string, string>, by = 1) => values.set(name, (values.get(name) ?? 0) + by),
    set: (name: string, v: number) => values.set(name, v),
    observe: () => undefined,
  } as unknown as Metrics & { values: Map<string, number> };
}

/** Like fakeClient, but each stream ends (the connection broke) after its batches. */
function fakeClientEnding(streams: KvEventBatch[][]): WorkerClient & { subscriptions: number } {
  const client = {
    subscriptions: 0,
    async *subscribeKvEvents() {
      const mine = streams[client.subscriptions++];
      if (!mine) return yield* [] as KvEventBatch[];
      for (const b of mine) yield b;
      throw new Error('stream broke');
    },
  };
  return client as unknown as WorkerClient & { subscriptions: number };
}

const sink = (log: string[]) => ({ apply: (_id: string, b: KvEventBatch) => log.push(`apply ${b.sequenceNumber}`), reset: () => log.push('reset'), markStale: () => log.push('stale') });

const settle = () => new Promise((r) => setImmediate(r));

describe('KV event subscriber', () => {
  it('keeps the stream and the index across a sequence gap (engines never replay): counts it and marks the index stale', async () => {
    const sched = new VirtualScheduler(10_000);
    const log: string[] = [];
    const client = fakeClient([[batch(1), batch(2), batch(4), batch(5)]]);
    const metrics = recordingMetrics();
    const sub = new KvEventSubscriber('w0', client, sink(log), sched, noopLogger, metrics, sched);
    sub.start();
    await settle();
    expect(log).toEqual(['apply 1', 'apply 2', 'stale', 'apply 4', 'apply 5']);
    expect(metrics.values.get('drover_worker_kv_event_gaps_total')).toBe(1);
    expect(client.subscriptions).toBe(1);
    expect(sub.lastSequence).toBe(5);
    expect(sub.supported).toBe(true);
    sub.stop();
  });

  it('resubscribes after a broken stream keeping the index (stale), and resets it only when the engine restarted', async () => {
    const sched = new VirtualScheduler(10_000);
    const log: string[] = [];
    // 1st stream breaks after 2; the 2nd continues past it (same engine); the 3rd starts over (restarted engine).
    const client = fakeClientEnding([[batch(1), batch(2)], [batch(9), batch(10)], [batch(1)]]);
    const sub = new KvEventSubscriber('w0', client, sink(log), sched, noopLogger, recordingMetrics(), sched);
    sub.start();
    await settle();
    expect(log).toEqual(['apply 1', 'apply 2']);
    sched.advance(1_000);
    await settle();
    expect(log).toEqual(['apply 1', 'apply 2', 'stale', 'apply 9', 'apply 10']);
    sched.advance(1_000);
    await settle();
    expect(log).toEqual(['apply 1', 'apply 2', 'stale', 'apply 9', 'apply 10', 'stale', 'reset', 'apply 1']);
    expect(client.subscriptions).toBe(3);
    sub.stop();
  });

  it('follows sequence numbers per data-parallel rank', async () => {
    const sched = new VirtualScheduler(10_000);
    const log: string[] = [];
    const metrics = recordingMetrics();
    const r = (seq: number, dpRank: number): KvEventBatch => ({ ...batch(seq), dpRank });
    const sub = new KvEventSubscriber('w0', fakeClient([[r(1, 0), r(1, 1), r(2, 0), r(2, 1)]]), sink(log), sched, noopLogger, metrics, sched);
    sub.start();
    await settle();
    expect(log).toEqual(['apply 1', 'apply 1', 'apply 2', 'apply 2']);
    expect(metrics.values.get('drover_worker_kv_event_gaps_total')).toBeUndefined();
    sub.stop();
  });

  it('reports how far the index trails the engine', async () => {
    const sched = new VirtualScheduler(100_000); // 100 s
    const metrics = recordingMetrics();
    const sub = new KvEventSubscriber('w0', fakeClient([[batch(1, 99.75)]]), { apply: () => undefined, reset: () => undefined, markStale: () => undefined }, sched, noopLogger, metrics, sched);
    sub.start();
    await settle();
    expect(metrics.values.get('drover_worker_kv_event_lag_seconds')).toBeCloseTo(0.25, 6);
    sub.stop();
  });

  it('stops for a worker without KV events (UNIMPLEMENTED): routing keeps the approximate tree', async () => {
    const sched = new VirtualScheduler();
    const client = fakeClient([], new WorkerRpcError(12, 'no kv events'));
    const sub = new KvEventSubscriber('w0', client, { apply: () => undefined, reset: () => undefined, markStale: () => undefined }, sched, noopLogger, recordingMetrics(), sched);
    sub.start();
    await settle();
    sched.advance(60_000);
    await settle();
    expect(sub.supported).toBe(false);
    expect(client.subscriptions).toBe(1);
  });
});
