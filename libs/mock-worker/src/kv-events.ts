import type { CacheChange } from './prefix-cache';

export type EngineKvEvent =
  | { kind: 'stored'; eventId: number; parentBlockHash?: string; blocks: { blockHash: string; tokenIds: number[]; blockSize: number }[] }
  | { kind: 'removed'; eventId: number; blockHashes: string[] }
  | { kind: 'cleared'; eventId: number };

export interface EngineKvBatch {
  sequenceNumber: number;
  timestamp: number;
  events: EngineKvEvent[];
}

/**
 * Numbers cache changes into KV event batches (monotonic sequence numbers) and keeps a bounded
 * history so a subscriber can replay from a sequence number it already saw.
 */
export class KvEventLog {
  private seq = 0;
  private eventId = 0;
  private readonly history: EngineKvBatch[] = [];
  private readonly listeners = new Set<(b: EngineKvBatch) => void>();

  constructor(private readonly capacity: number, private readonly blockSize: number) {}

  get lastSequence(): number {
    return this.seq;
  }

  subscribe(listener: (b: EngineKvBatch) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Batches with sequence numbers ≥ start still in history (start 0: none, only new ones). */
  since(start: number): EngineKvBatch[] {
    if (start <= 0) return [];
    return this.history.filter((b) => b.sequenceNumber >= start);
  }

  recordChange(change: CacheChange, nowSeconds: number): void {
    const events: EngineKvEvent[] = [];
    let run: EngineKvEvent & { kind: 'stored' } | undefined;
    for (const block of change.stored) {
      const continues = run && run.blocks[run.blocks.length - 1].blockHash === block.parentHash;
      if (!continues) {
        run = { kind: 'stored', eventId: ++this.eventId, parentBlockHash: block.parentHash, blocks: [] };
        events.push(run);
      }
      run!.blocks.push({ blockHash: block.hash, tokenIds: block.tokenIds, blockSize: this.blockSize });
    }
    if (change.removed.length > 0) events.push({ kind: 'removed', eventId: ++this.eventId, blockHashes: change.removed });
    if (events.length > 0) this.publish(events, nowSeconds);
  }

  recordCleared(nowSeconds: number): void {
    this.publish([{ kind: 'cleared', eventId: ++this.eventId }], nowSeconds);
  }

  private publish(events: EngineKvEvent[], nowSeconds: number): void {
    const batch: EngineKvBatch = { sequenceNumber: ++this.seq, timestamp: nowSeconds, events };
    this.history.push(batch);
    if (this.history.length > this.capacity) this.history.shift();
    for (const l of this.listeners) l(batch);
  }
}
