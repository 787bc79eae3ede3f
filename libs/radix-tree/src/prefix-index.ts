/**
 * A bounded map from prefix keys to something holding that prefix, that forgets the prefixes
 * least recently seen first, approximately: two generations, the young one taking every prefix
 * seen, the old one dropped whole when the young one fills half the capacity. Seeing a prefix
 * costs one lookup when it is already young (the common case: a shared system prompt, the earlier
 * turns of a conversation), where an exact LRU would delete and re-insert it every time.
 */
export class PrefixIndex<V> {
  private young = new Map<number, V>();
  private old = new Map<number, V>();

  constructor(private readonly capacity: number) {}

  get(key: number): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }

  /** Records that `value` holds the prefix `key` (keeps the holder already recorded this generation). */
  see(key: number, value: V): void {
    if (!this.young.has(key)) this.put(key, value);
  }

  /**
   * `see` for every prefix of one sequence (`keys[k]` is the key of its first k+1 strides). A holder
   * seen this generation put all its prefixes in the young generation, so the young prefixes of a
   * sequence are (up to a rotation in between) a leading run: a binary search finds where it ends
   * and only the prefixes past it are written. A long prompt that extends a known conversation
   * costs a few lookups, not one per stride.
   */
  seeAll(keys: Int32Array, count: number, value: V): void {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.young.has(keys[mid])) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < count; k++) this.put(keys[k], value);
  }

  /** Records `value` for `key`, replacing any holder. */
  set(key: number, value: V): void {
    this.put(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private put(key: number, value: V): void {
    this.young.set(key, value);
    if (this.young.size >= this.capacity / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}
