/**
 * Gossip waiting to be piggybacked (infection-style dissemination). Each item is sent at most
 * `retransmitLimit()` times, least-sent first, so fresh news travels before old news. An item
 * queued under a key invalidates any older item with the same key: newer gossip about a member
 * replaces older gossip about it. The queue is bounded; on overflow the most-sent items go first.
 */
interface QueuedBroadcast {
  key: string | undefined;
  bytes: Uint8Array;
  transmits: number;
  /** Insertion order: newer items win ties. */
  id: number;
}

export class BroadcastQueue {
  private items: QueuedBroadcast[] = [];
  private readonly byKey = new Map<string, QueuedBroadcast>();
  private nextId = 0;

  constructor(
    private readonly retransmitLimit: () => number,
    private readonly maxItems = 4096,
  ) {}

  get size(): number {
    return this.items.length;
  }

  enqueue(bytes: Uint8Array, key?: string): void {
    if (key !== undefined) {
      const old = this.byKey.get(key);
      if (old) this.remove(old);
    }
    const item: QueuedBroadcast = { key, bytes, transmits: 0, id: this.nextId++ };
    this.items.push(item);
    if (key !== undefined) this.byKey.set(key, item);
    if (this.items.length > this.maxItems) this.prune();
  }

  /**
   * Takes broadcasts that fit in `limitBytes`, counting `overheadBytes` per item (framing), least
   * transmitted and newest first. Each returned item counts one transmission.
   */
  take(overheadBytes: number, limitBytes: number): Uint8Array[] {
    if (this.items.length === 0) return [];
    const limit = this.retransmitLimit();
    this.items.sort(byPriority);
    const out: Uint8Array[] = [];
    let used = 0;
    let expired = false;
    for (const item of this.items) {
      const cost = overheadBytes + item.bytes.length;
      if (used + cost > limitBytes) continue;
      used += cost;
      out.push(item.bytes);
      item.transmits++;
      if (item.transmits >= limit) expired = true;
      if (limitBytes - used <= overheadBytes) break;
    }
    if (expired) this.dropWhere((item) => item.transmits >= limit);
    return out;
  }

  clear(): void {
    this.items = [];
    this.byKey.clear();
  }

  private remove(item: QueuedBroadcast): void {
    const index = this.items.indexOf(item);
    if (index >= 0) this.items.splice(index, 1);
    if (item.key !== undefined && this.byKey.get(item.key) === item) this.byKey.delete(item.key);
  }

  private dropWhere(predicate: (item: QueuedBroadcast) => boolean): void {
    const kept: QueuedBroadcast[] = [];
    for (const item of this.items) {
      if (!predicate(item)) kept.push(item);
      else if (item.key !== undefined && this.byKey.get(item.key) === item) this.byKey.delete(item.key);
    }
    this.items = kept;
  }

  private prune(): void {
    this.items.sort(byPriority);
    const dropped = this.items.splice(this.maxItems);
    for (const item of dropped) if (item.key !== undefined && this.byKey.get(item.key) === item) this.byKey.delete(item.key);
  }
}

function byPriority(a: QueuedBroadcast, b: QueuedBroadcast): number {
  return a.transmits - b.transmits || b.id - a.id;
}
