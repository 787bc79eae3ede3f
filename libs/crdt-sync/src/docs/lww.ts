/**
 * Last-writer-wins entries for the Yjs documents. Yjs settles concurrent writes to one map key by
 * client id, not by time (ARCHITECTURE §4), so every entry carries its own (ts, by) and readers
 * resolve explicitly: the greater (ts, by) wins, whatever order Yjs integrated the writes in.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One write: `value` null marks a removal (a tombstone that still has to win against older writes). */
export interface LwwEntry {
  value: JsonValue;
  ts: number;
  by: string;
}

/** Orders two writes: positive when `a` wins. Ties on (ts, by) cannot happen for distinct writes (HLC). */
export function compareLww(a: LwwEntry, b: LwwEntry): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.by !== b.by) return a.by < b.by ? -1 : 1;
  const av = JSON.stringify(a.value);
  const bv = JSON.stringify(b.value);
  return av === bv ? 0 : av < bv ? -1 : 1;
}

/** The shape stored in the Y.Map; validated on read because it arrives from peers. */
export interface StoredEntry {
  v: JsonValue;
  ts: number;
  by: string;
}

export function toStored(entry: LwwEntry): StoredEntry {
  return { v: entry.value, ts: entry.ts, by: entry.by };
}

export function fromStored(raw: unknown): LwwEntry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<StoredEntry>;
  if (typeof r.ts !== 'number' || !Number.isFinite(r.ts) || typeof r.by !== 'string' || r.v === undefined) return undefined;
  return { value: r.v, ts: r.ts, by: r.by };
}

/**
 * Hybrid logical timestamps: wall-ish time from the injected clock, but never below one past the
 * highest timestamp seen, so a write made after observing another always wins against it even
 * when clocks are skewed.
 */
export class HybridTimestamps {
  private maxSeen = 0;

  constructor(private readonly now: () => number) {}

  next(): number {
    const ts = Math.max(Math.floor(this.now()), this.maxSeen + 1);
    this.maxSeen = ts;
    return ts;
  }

  observe(ts: number): void {
    if (ts > this.maxSeen) this.maxSeen = ts;
  }
}
