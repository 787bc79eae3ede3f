import type { LoadEntry, SyncMessage } from '../wire/messages';

export interface WorkerLoad {
  inFlight: number;
  queued: number;
}

type LoadMessage = Extract<SyncMessage, { type: 'load' }>;

interface OriginLoad {
  epoch: number;
  version: number;
  entries: Map<string, WorkerLoad>;
  receivedAtMs: number;
}

/**
 * In-flight and queued work per worker, per node: this node's own counters plus the latest table
 * each peer sent (latest-value, versioned, so a reordered older table never overwrites a newer
 * one). Summing them gives the load the whole mesh puts on each worker.
 */
export class LoadTable {
  private readonly local = new Map<string, WorkerLoad>();
  private localVersion = 0;
  private dirty = false;
  private readonly remote = new Map<string, OriginLoad>();

  constructor(private readonly epoch: number) {}

  /** Records this node's load on a worker; counts as a change only if a number moved. */
  setLocal(workerId: string, load: WorkerLoad): void {
    const prev = this.local.get(workerId);
    if (prev && prev.inFlight === load.inFlight && prev.queued === load.queued) return;
    if (load.inFlight === 0 && load.queued === 0) this.local.delete(workerId);
    else this.local.set(workerId, { inFlight: load.inFlight, queued: load.queued });
    this.localVersion++;
    this.dirty = true;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  get version(): number {
    return this.localVersion;
  }

  /** The table was broadcast to every peer. */
  markSent(): void {
    this.dirty = false;
  }

  /** The message carrying this node's table. */
  message(): LoadMessage {
    const entries: LoadEntry[] = [];
    for (const [workerId, l] of this.local) entries.push({ workerId, inFlight: l.inFlight, queued: l.queued });
    return { type: 'load', epoch: this.epoch, version: this.localVersion, entries };
  }

  /** Takes a peer's table if it is newer than the one held; false for a stale one. */
  onRemote(origin: string, msg: LoadMessage, nowMs: number): boolean {
    const held = this.remote.get(origin);
    if (held && held.epoch === msg.epoch && msg.version < held.version) return false;
    const entries = new Map<string, WorkerLoad>();
    for (const e of msg.entries) entries.set(e.workerId, { inFlight: e.inFlight, queued: e.queued });
    this.remote.set(origin, { epoch: msg.epoch, version: msg.version, entries, receivedAtMs: nowMs });
    return true;
  }

  /** Membership said the node is gone: its load is no longer on any worker. */
  dropOrigin(origin: string): void {
    this.remote.delete(origin);
  }

  /** Drops tables not refreshed within `ttlMs` (a backstop for missed membership events). */
  expire(nowMs: number, ttlMs: number): string[] {
    const expired: string[] = [];
    for (const [origin, l] of this.remote) {
      if (nowMs - l.receivedAtMs > ttlMs) {
        this.remote.delete(origin);
        expired.push(origin);
      }
    }
    return expired;
  }

  /** Load per worker summed over this node and every live peer. */
  meshLoad(): Map<string, WorkerLoad> {
    const out = new Map<string, WorkerLoad>();
    const add = (tbl: Map<string, WorkerLoad>) => {
      for (const [id, l] of tbl) {
        const acc = out.get(id);
        if (acc) {
          acc.inFlight += l.inFlight;
          acc.queued += l.queued;
        } else out.set(id, { inFlight: l.inFlight, queued: l.queued });
      }
    };
    add(this.local);
    for (const l of this.remote.values()) add(l.entries);
    return out;
  }

  /** Each origin's table (this node under its own id is not included). */
  byOrigin(): Map<string, Map<string, WorkerLoad>> {
    const out = new Map<string, Map<string, WorkerLoad>>();
    for (const [origin, l] of this.remote) out.set(origin, new Map(l.entries));
    return out;
  }

  localLoad(): Map<string, WorkerLoad> {
    return new Map(this.local);
  }
}
