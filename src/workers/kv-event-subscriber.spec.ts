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

const settle = () => new Promise((r) => setImmediate(r));

describe('KV event subscriber', () => {
  it('applies batches in order, and on a sequence gap resets the index and resubscribes', async () => {
    const sched = new VirtualScheduler(10_000);
    const log: string[] = [];
    const client = fakeClient([[batch(1), batch(2), batch(4)], [batch(7), batch(8)]]);
    const metrics = recordingMetrics();
    const sub = new KvEventSubscriber('w0', client, { apply: (_id, b) => log.push(`apply ${b.sequenceNumber}`), reset: () => log.push('reset') }, sched, noopLogger, metrics, sched);
    sub.start();
    await settle();
    // 4 after 2 is a gap: nothing past it is applied, and the index is dropped before the replay.
    expect(log).toEqual(['reset', 'apply 1', 'apply 2']);
    expect(metrics.values.get('drover_worker_kv_event_gaps_total')).toBe(1);
    sched.advance(1_000); // the capped backoff before resubscribing
    await settle();
    expect(client.subscriptions).toBe(2);
    expect(log).toEqual(['reset', 'apply 1', 'apply 2', 'reset', 'apply 7', 'apply 8']);
    expect(sub.lastSequence).toBe(8);
    expect(sub.supported).toBe(true);
    sub.stop();
  });

  it('reports how far the index trails the engine', async () => {
    const sched = new VirtualScheduler(100_000); // 100 s
    const metrics = recordingMetrics();
    const sub = new KvEventSubscriber('w0', fakeClient([[batch(1, 99.75)]]), { apply: () => undefined, reset: () => undefined }, sched, noopLogger, metrics, sched);
    sub.start();
    await settle();
    expect(metrics.values.get('drover_worker_kv_event_lag_seconds')).toBeCloseTo(0.25, 6);
    sub.stop();
  });

  it('stops for a worker without KV events (UNIMPLEMENTED): routing keeps the approximate tree', async () => {
    const sched = new VirtualScheduler();
    const client = fakeClient([], new WorkerRpcError(12, 'no kv events'));
    const sub = new KvEventSubscriber('w0', client, { apply: () => undefined, reset: () => undefined }, sched, noopLogger, recordingMetrics(), sched);
    sub.start();
    await settle();
    sched.advance(60_000);
    await settle();
    expect(sub.supported).toBe(false);
    expect(client.subscriptions).toBe(1);
  });
});
