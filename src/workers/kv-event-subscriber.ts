import type { Clock, Logger, Metrics, Timers, TimerHandle } from '@drover/runtime';
import { WorkerRpcError, type KvEventBatch, type WorkerClient } from '@drover/worker-proto';

/** Where a worker's KV events go (the routing layer's exact block index). */
export interface KvEventSink {
  apply(workerId: string, batch: KvEventBatch): void;
  /** The engine restarted (its sequence numbers went back): what was known of its cache is void. */
  reset(workerId: string): void;
  /**
   * Events may have been missed (a sequence gap, or a new subscription after a broken stream):
   * keep what is known (engines do not replay it) but mark it stale.
   */
  markStale(workerId: string): void;
}

/**
 * Follows one worker's SubscribeKvEvents stream. Real engines ignore `start_sequence_number` (no
 * replay) and may skip sequence numbers, so a gap is counted and the stream kept: the index keeps
 * what it knew, marked stale. A broken stream is resubscribed with capped backoff, again keeping
 * the index; only sequence numbers that went back (a restarted engine, empty cache) reset it.
 * Sequence numbers are followed per data-parallel rank. A worker that answers UNIMPLEMENTED does
 * not offer events: the subscriber stops and routing keeps using the approximate tree for it.
 */
export class KvEventSubscriber {
  private abort = new AbortController();
  /** Last sequence number seen per data-parallel rank (-1: no rank field). */
  private readonly lastSeqByRank = new Map<number, number>();
  private subscriptions = 0;
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private stopped = false;
  private graceTimer: TimerHandle | undefined;
  supported: boolean | undefined;

  constructor(
    private readonly workerId: string,
    private readonly client: WorkerClient,
    private readonly sink: KvEventSink,
    private readonly timers: Timers,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock?: Clock,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearTimeout(this.graceTimer);
  }

  /** The highest sequence number seen on any rank. */
  get lastSequence(): number {
    let max = 0;
    for (const v of this.lastSeqByRank.values()) max = Math.max(max, v);
    return max;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.abort = new AbortController();
    // A new subscription after a broken one: whatever happened in between was not seen.
    if (this.subscriptions++ > 0) this.sink.markStale(this.workerId);
    const fresh = new Set<number>();
    // A worker without KV events answers UNIMPLEMENTED at once; one that stays subscribed for a
    // moment offers them (an idle engine may have no event to send yet).
    this.timers.clearTimeout(this.graceTimer);
    this.graceTimer = this.timers.setTimeout(() => {
      if (this.supported === undefined && !this.stopped) this.supported = true;
    }, 500);
    try {
      for await (const batch of this.client.subscribeKvEvents(0, { signal: this.abort.signal })) {
        this.supported = true;
        this.failures = 0;
        const rank = batch.dpRank ?? -1;
        const last = this.lastSeqByRank.get(rank);
        if (last !== undefined && batch.sequenceNumber <= last && !fresh.has(rank)) {
          // Numbers went back on a new subscription: the engine restarted with an empty cache.
          this.log.info({ worker: this.workerId, last, got: batch.sequenceNumber }, 'kv event sequence restarted; engine cache is new');
          this.sink.reset(this.workerId);
        } else if (last !== undefined && batch.sequenceNumber !== last + 1 && fresh.has(rank)) {
          this.metrics.inc('drover_worker_kv_event_gaps_total', { worker: this.workerId });
          this.log.warn({ worker: this.workerId, expected: last + 1, got: batch.sequenceNumber }, 'kv event gap; keeping the index, marked stale');
          this.sink.markStale(this.workerId);
        }
        fresh.add(rank);
        this.lastSeqByRank.set(rank, batch.sequenceNumber);
        this.sink.apply(this.workerId, batch);
        // How far the exact index trails the engine (engine timestamp → applied here).
        if (this.clock && batch.timestamp > 0) this.metrics.set('drover_worker_kv_event_lag_seconds', Math.max(0, this.clock.now() / 1000 - batch.timestamp), { worker: this.workerId });
      }
    } catch (err) {
      if (err instanceof WorkerRpcError && err.grpcName === 'UNIMPLEMENTED') {
        this.supported = false;
        this.log.info({ worker: this.workerId }, 'worker offers no KV events; using the approximate tree');
        return;
      }
      if (!this.stopped) this.log.warn({ worker: this.workerId, err: (err as Error).message }, 'kv event stream failed');
    }
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(10_000, 100 * 2 ** Math.min(this.failures, 7));
    this.retryTimer = this.timers.setTimeout(() => void this.run(), delay);
  }
}
