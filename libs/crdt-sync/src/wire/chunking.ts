import { maxChunksPerMessage, type SyncLimits } from '../limits';
import type { DropReason } from './envelope';
import { encodeMessage } from './envelope';
import type { SyncMessage } from './messages';

/** Bytes a chunk envelope adds around its data: header plus four varints. */
const CHUNK_OVERHEAD_BYTES = 3 + 4 * 5;

/**
 * Splits an encoded envelope into chunk envelopes of at most `frameBytes` each; returns the
 * envelope itself when it already fits.
 */
export function splitIntoFrames(envelope: Uint8Array, frameBytes: number, transferId: number): Uint8Array[] {
  if (envelope.length <= frameBytes) return [envelope];
  const dataPerChunk = frameBytes - CHUNK_OVERHEAD_BYTES;
  const count = Math.ceil(envelope.length / dataPerChunk);
  const frames: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const data = envelope.subarray(index * dataPerChunk, Math.min(envelope.length, (index + 1) * dataPerChunk));
    frames.push(encodeMessage({ type: 'chunk', transferId, index, count, data }));
  }
  return frames;
}

interface Transfer {
  count: number;
  parts: Map<number, Uint8Array>;
  bytes: number;
  startedAtMs: number;
}

export type ReassemblyResult =
  | { status: 'pending' }
  | { status: 'complete'; envelope: Uint8Array }
  | { status: 'dropped'; reason: DropReason };

/**
 * Reassembles one peer's chunked messages. Caps concurrent transfers, chunks per message and
 * total bytes before buffering anything; a transfer that contradicts itself is dropped whole.
 */
export class Reassembler {
  private readonly transfers = new Map<number, Transfer>();
  private readonly maxChunks: number;

  constructor(private readonly limits: SyncLimits) {
    this.maxChunks = maxChunksPerMessage(limits);
  }

  get pendingTransfers(): number {
    return this.transfers.size;
  }

  accept(chunk: Extract<SyncMessage, { type: 'chunk' }>, nowMs: number): ReassemblyResult {
    if (chunk.count > this.maxChunks) return { status: 'dropped', reason: 'chunk_overflow' };
    let transfer = this.transfers.get(chunk.transferId);
    if (!transfer) {
      if (this.transfers.size >= this.limits.maxConcurrentTransfersPerPeer) return { status: 'dropped', reason: 'chunk_overflow' };
      transfer = { count: chunk.count, parts: new Map(), bytes: 0, startedAtMs: nowMs };
      this.transfers.set(chunk.transferId, transfer);
    }
    if (transfer.count !== chunk.count) {
      this.transfers.delete(chunk.transferId);
      return { status: 'dropped', reason: 'chunk_malformed' };
    }
    if (transfer.parts.has(chunk.index)) return { status: 'pending' };
    if (transfer.bytes + chunk.data.length > this.limits.maxMessageBytes) {
      this.transfers.delete(chunk.transferId);
      return { status: 'dropped', reason: 'too_large' };
    }
    transfer.parts.set(chunk.index, chunk.data);
    transfer.bytes += chunk.data.length;
    if (transfer.parts.size < transfer.count) return { status: 'pending' };
    this.transfers.delete(chunk.transferId);
    const envelope = new Uint8Array(transfer.bytes);
    let pos = 0;
    for (let i = 0; i < transfer.count; i++) {
      const part = transfer.parts.get(i)!;
      envelope.set(part, pos);
      pos += part.length;
    }
    return { status: 'complete', envelope };
  }

  /** Drops transfers older than the timeout; returns how many. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (const [id, t] of this.transfers) {
      if (nowMs - t.startedAtMs > this.limits.transferTimeoutMs) {
        this.transfers.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.transfers.clear();
  }
}
