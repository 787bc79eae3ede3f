/**
 * An LRU map bounded in (approximate) bytes, with hit/miss counters. Map iteration order is
 * insertion order, so re-inserting on a hit keeps the least recently used entry first.
 */
export class LruByteCache<V> {
  private readonly items = new Map<string, { value: V; bytes: number }>();
  private usedBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): V | undefined {
    const found = this.items.get(key);
    if (!found) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.items.delete(key);
    this.items.set(key, found);
    return found.value;
  }

  /** Looks up without counting or refreshing (for probing several candidate keys). */
  peek(key: string): V | undefined {
    return this.items.get(key)?.value;
  }

  set(key: string, value: V, bytes: number): void {
    if (bytes > this.maxBytes) return;
    const old = this.items.get(key);
    if (old) {
      this.usedBytes -= old.bytes;
      this.items.delete(key);
    }
    this.items.set(key, { value, bytes });
    this.usedBytes += bytes;
    while (this.usedBytes > this.maxBytes) {
      const [k, v] = this.items.entries().next().value as [string, { value: V; bytes: number }];
      this.items.delete(k);
      this.usedBytes -= v.bytes;
    }
  }
}
