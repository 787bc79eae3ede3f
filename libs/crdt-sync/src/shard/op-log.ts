/**
 * The last `capacity` ops of this node's shard in a ring, addressed by sequence number (1-based).
 * Append is O(1) and never allocates once the ring is full: memory stays bounded under any load,
 * and a peer that falls further behind than the ring gets a snapshot instead.
 */
export class OpLog<Op> {
  private readonly ring: Op[] = [];
  private last = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('op log capacity must be a positive integer');
  }

  /** Appends and returns the op's sequence number. */
  append(op: Op): number {
    this.ring[this.last % this.capacity] = op;
    return ++this.last;
  }

  get lastSeq(): number {
    return this.last;
  }

  /** Oldest sequence number still held (lastSeq + 1 when empty). */
  get oldestSeq(): number {
    return Math.max(1, this.last - this.capacity + 1);
  }

  get length(): number {
    return Math.min(this.last, this.capacity);
  }

  /** Whether a peer holding up to `seq` can be brought up to date from the log alone. */
  canResumeAfter(seq: number): boolean {
    return seq >= this.oldestSeq - 1 && seq <= this.last;
  }

  /** Ops `from..to` inclusive; the caller checks they are held. */
  slice(from: number, to: number): Op[] {
    if (from < this.oldestSeq || to > this.last || from > to) throw new RangeError(`ops ${from}..${to} not held`);
    const out: Op[] = new Array(to - from + 1);
    for (let s = from; s <= to; s++) out[s - from] = this.ring[(s - 1) % this.capacity];
    return out;
  }
}
