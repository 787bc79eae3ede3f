import type * as Y from 'yjs';
import { compareLww, fromStored, type LwwEntry } from './lww';

/**
 * Each writer (a Yjs client) writes entry `id` under its own map key `id␁clientId`, so no two
 * clients ever write the same Yjs key and nothing is lost to Yjs's client-id tie-break. This index
 * groups those keys per id and keeps the LWW winner of each id, updated incrementally from the
 * keys a transaction changed.
 */
const KEY_SEPARATOR = '\u0001';

export function entryKey(id: string, clientId: number): string {
  return `${id}${KEY_SEPARATOR}${clientId}`;
}

function idOfKey(key: string): string | undefined {
  const at = key.lastIndexOf(KEY_SEPARATOR);
  return at > 0 ? key.slice(0, at) : undefined;
}

export interface WinnerChange {
  id: string;
  before: LwwEntry | undefined;
  after: LwwEntry | undefined;
}

export class LwwIndex {
  private readonly byId = new Map<string, Map<string, LwwEntry>>();
  private readonly winners = new Map<string, LwwEntry>();

  constructor(private readonly onEntrySeen: (entry: LwwEntry) => void = () => {}) {}

  static build(map: Y.Map<unknown>, onEntrySeen?: (entry: LwwEntry) => void): LwwIndex {
    const index = new LwwIndex(onEntrySeen);
    index.update(map, map.keys());
    return index;
  }

  /** Re-reads the given Yjs keys; returns the ids whose winner changed. */
  update(map: Y.Map<unknown>, keys: Iterable<string>): WinnerChange[] {
    const touched = new Set<string>();
    for (const key of keys) {
      const id = idOfKey(key);
      if (id === undefined) continue;
      const entry = fromStored(map.get(key));
      let perKey = this.byId.get(id);
      if (entry) {
        this.onEntrySeen(entry);
        if (!perKey) this.byId.set(id, (perKey = new Map()));
        perKey.set(key, entry);
      } else if (perKey) {
        perKey.delete(key);
        if (perKey.size === 0) this.byId.delete(id);
      }
      touched.add(id);
    }
    const changes: WinnerChange[] = [];
    for (const id of touched) {
      const before = this.winners.get(id);
      const after = this.resolve(id);
      if (after) this.winners.set(id, after);
      else this.winners.delete(id);
      if (before !== after && (!before || !after || compareLww(before, after) !== 0)) changes.push({ id, before, after });
    }
    return changes;
  }

  private resolve(id: string): LwwEntry | undefined {
    const perKey = this.byId.get(id);
    if (!perKey) return undefined;
    let best: LwwEntry | undefined;
    for (const e of perKey.values()) if (!best || compareLww(e, best) > 0) best = e;
    return best;
  }

  winner(id: string): LwwEntry | undefined {
    return this.winners.get(id);
  }

  /** Winners including tombstones. */
  allWinners(): ReadonlyMap<string, LwwEntry> {
    return this.winners;
  }

  /** Yjs keys holding entries for `id` other than the winner's (candidates to delete). */
  keysOf(id: string): string[] {
    return [...(this.byId.get(id)?.keys() ?? [])];
  }

  entryAt(id: string, key: string): LwwEntry | undefined {
    return this.byId.get(id)?.get(key);
  }
}
