import type { Clock, Logger, Metrics, Timers, TimerHandle } from '@drover/runtime';
import { WorkerRpcError, type KvEventBatch, type WorkerClient } from '@drover/worker-proto';

/** Where a worker's KV events go (the routing layer's exact block index). */
export interface KvEventSink {
  apply(workerId: string, batch: KvEventBatch): void;
  /** The stream had a gap or restarted: drop what is known of this worker before replaying. */
  reset(workerId: string): void;
}

/**
 * Follows one worker's SubscribeKvEvents stream. Sequence numbers must grow by one; on a gap (or
 * a broken stream) it resets the worker's index and resubscribes from the current position, with
 * capped backoff. A worker that answers UNIMPLEMENTED does not offer events: the subscriber stops
 * and routing keeps using the approximate tree for it.
 */
export class KvEventSubscriber {
  private abort = new AbortController();
  private lastSeq = 0;
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

  get lastSequence(): number {
    return this.lastSeq;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.abort = new AbortController();
    // Fresh subscription: the index restarts from what the worker streams from now on.
    this.sink.reset(this.workerId);
    this.lastSeq = 0;
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
        if (this.lastSeq !== 0 && batch.sequenceNumber !== this.lastSeq + 1) {
          this.metrics.inc('drover_worker_kv_event_gaps_total', { worker: this.workerId });
          this.log.warn({ worker: this.workerId, expected: this.lastSeq + 1, got: batch.sequenceNumber }, 'kv event gap; resubscribing');
          this.abort.abort();
          break;
        }
        this.lastSeq = batch.sequenceNumber;
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
