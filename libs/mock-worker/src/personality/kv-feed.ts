import type { Rng } from '@drover/runtime';
import type { EngineKvBatch } from '../kv-events';
import type { MockEngine } from '../mock-engine';

/**
 * The engine's KV events as SubscribeKvEvents streams them. The mock's own feed replays history
 * from `start_sequence_number`; real servers stream from now on whatever the subscriber asks, and
 * a batch can be lost between the scheduler and the stream (its sequence number is then skipped:
 * a gap). Batches carry `dp_rank` 0: the servers publish rank 0's events.
 */
export class KvEventFeed {
  constructor(
    private readonly engine: MockEngine,
    private readonly opts: { replay: boolean; gapRate: number; rng: Rng },
  ) {}

  subscribe(start: number, write: (wire: Record<string, unknown>) => void): () => void {
    const send = (b: EngineKvBatch) => write(toWire(b, !this.opts.replay));
    if (this.opts.replay) for (const b of this.engine.kvEventsSince(start)) send(b);
    return this.engine.onKvEvents((b) => {
      // Decided once per batch for every subscriber alike would need shared state; per subscriber
      // is closer to a lossy publisher anyway (each socket loses its own messages).
      if (this.opts.gapRate > 0 && this.opts.rng.next() < this.opts.gapRate) return;
      send(b);
    });
  }
}

function toWire(b: EngineKvBatch, withRank: boolean): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    sequence_number: String(b.sequenceNumber),
    timestamp: b.timestamp,
    events: b.events.map((e) =>
      e.kind === 'stored'
        ? { event_id: String(e.eventId), stored: { parent_block_hash: e.parentBlockHash, blocks: e.blocks.map((k) => ({ block_hash: k.blockHash, token_ids: k.tokenIds, block_size: k.blockSize })) } }
        : e.kind === 'removed'
          ? { event_id: String(e.eventId), removed: { block_hashes: e.blockHashes } }
          : { event_id: String(e.eventId), cleared: {} },
    ),
  };
  if (withRank) wire.dp_rank = 0;
  return wire;
}
