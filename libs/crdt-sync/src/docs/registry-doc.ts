import { hashString32, type Clock, type Rng } from '@drover/runtime';
import * as Y from 'yjs';
import type { DocEpoch } from '../wire/messages';
import { compareEpoch } from './epoch';
import { compareLww, HybridTimestamps, type JsonValue, type LwwEntry, toStored } from './lww';
import { entryKey, LwwIndex, type WinnerChange } from './lww-index';

/** The replicated maps of the registry document (`keys`: client API keys, hashed, by key id). */
export const REGISTRY_MAPS = ['workers', 'policies', 'health', 'keys'] as const;
export type RegistryMapName = (typeof REGISTRY_MAPS)[number];

export interface RegistryChange {
  map: RegistryMapName;
  id: string;
  /** The winning value now, or undefined when the entry is gone. */
  value: JsonValue | undefined;
  /** Whether the change came from this node's own write. */
  local: boolean;
}

export interface DocSize {
  /** Encoded V2 size of the whole document. */
  bytes: number;
  /** Yjs structs in memory. */
  structs: number;
}

export interface RegistryDocDeps {
  clock: Clock;
  rng: Rng;
}

export interface RegistryDocConfig {
  nodeId: string;
  /** Compact (rebuild into a new epoch) once the encoded document exceeds this many bytes... */
  compactAboveBytes: number;
  /**
   * ...or holds this many Yjs structs: every overwrite leaves one behind in memory even with gc on,
   * and a single writer's garbage encodes to almost nothing, so bytes alone miss the heap growth.
   */
  compactAboveStructs: number;
  /** Either measure must also exceed this multiple of its value right after the last compaction. */
  compactGrowthFactor: number;
  /** Removals are kept this long across compactions so older writes cannot resurrect an entry. */
  tombstoneTtlMs: number;
}

export const DEFAULT_REGISTRY_DOC_CONFIG: Omit<RegistryDocConfig, 'nodeId'> = {
  compactAboveBytes: 256 * 1024,
  compactAboveStructs: 50_000,
  compactGrowthFactor: 2,
  tombstoneTtlMs: 60 * 60 * 1000,
};

/** Transaction origin of updates that came from peers (never re-broadcast). */
const REMOTE = Symbol('remote');

interface DocState {
  doc: Y.Doc;
  epoch: DocEpoch;
  indexes: Record<RegistryMapName, LwwIndex>;
  unobserve: () => void;
}

/**
 * The low-churn, multi-writer state of the mesh as one Yjs document: the worker registry, per-model
 * policy config, per-node health verdicts and client API keys (hashes and limits). Entries are LWW by (ts, by). The document grows with
 * every overwrite even with gc on (ARCHITECTURE §4), so past a bound it is compacted: rebuilt from
 * its live entries into a new epoch, which peers adopt (merging in whatever they wrote meanwhile).
 */
export class RegistryDoc {
  private state: DocState;
  private readonly clockTs: HybridTimestamps;
  private readonly changeListeners = new Set<(change: RegistryChange) => void>();
  private readonly updateListeners = new Set<(update: Uint8Array) => void>();
  private readonly epochListeners = new Set<(epoch: DocEpoch) => void>();
  private readonly config: RegistryDocConfig;
  private baseline: DocSize = { bytes: 0, structs: 0 };
  private digestCache: string | undefined;
  private inLocalWrite = false;
  /** While adopting an epoch, per-key events are muted: one diff of the views is emitted after. */
  private muted = false;
  /** Compactions performed or adopted, for stats. */
  compactions = 0;

  constructor(
    private readonly deps: RegistryDocDeps,
    config: Partial<RegistryDocConfig> & { nodeId: string },
  ) {
    this.config = { ...DEFAULT_REGISTRY_DOC_CONFIG, ...config };
    this.clockTs = new HybridTimestamps(() => deps.clock.now());
    // Epoch 0 is shared by every fresh node so that nodes started together sync by plain deltas.
    this.state = this.attach(this.newDoc(), { n: 0, id: 0 });
  }

  get nodeId(): string {
    return this.config.nodeId;
  }

  get epoch(): DocEpoch {
    return this.state.epoch;
  }

  /** The live Y.Doc of the current epoch (replaced on compaction: do not hold on to it). */
  get ydoc(): Y.Doc {
    return this.state.doc;
  }

  // ---- writes -------------------------------------------------------------------------------

  upsertWorker(id: string, record: JsonValue): void {
    this.set('workers', id, record);
  }

  removeWorker(id: string): void {
    this.remove('workers', id);
  }

  setPolicy(model: string, policy: JsonValue): void {
    this.set('policies', model, policy);
  }

  removePolicy(model: string): void {
    this.remove('policies', model);
  }

  setHealth(subject: string, verdict: JsonValue): void {
    this.set('health', subject, verdict);
  }

  clearHealth(subject: string): void {
    this.remove('health', subject);
  }

  set(map: RegistryMapName, id: string, value: JsonValue): void {
    if (value === null) throw new RangeError('null is reserved for removals; call remove()');
    this.write(map, id, { value, ts: this.clockTs.next(), by: this.config.nodeId });
  }

  remove(map: RegistryMapName, id: string): void {
    if (!this.state.indexes[map].winner(id)) return;
    this.write(map, id, { value: null, ts: this.clockTs.next(), by: this.config.nodeId });
  }

  /**
   * Writes under this client's own key and deletes the keys of writes it supersedes: a delete
   * only removes what this node has seen, so a concurrent write elsewhere survives it.
   */
  private write(map: RegistryMapName, id: string, entry: LwwEntry): void {
    const { doc, indexes } = this.state;
    const ymap = doc.getMap<unknown>(map);
    const own = entryKey(id, doc.clientID);
    this.inLocalWrite = true;
    try {
      doc.transact(() => {
        for (const key of indexes[map].keysOf(id)) {
          const existing = indexes[map].entryAt(id, key);
          if (key !== own && existing && compareLww(entry, existing) > 0) ymap.delete(key);
        }
        ymap.set(own, toStored(entry));
      });
    } finally {
      this.inLocalWrite = false;
    }
  }

  // ---- reads --------------------------------------------------------------------------------

  get(map: RegistryMapName, id: string): JsonValue | undefined {
    const w = this.state.indexes[map].winner(id);
    return w && w.value !== null ? w.value : undefined;
  }

  /** Live entries (tombstones hidden) of one map. */
  entries<T extends JsonValue = JsonValue>(map: RegistryMapName): Map<string, T> {
    const out = new Map<string, T>();
    for (const [id, w] of this.state.indexes[map].allWinners()) if (w.value !== null) out.set(id, w.value as T);
    return out;
  }

  /** Winning entries including tombstones and their (ts, by). */
  rawEntries(map: RegistryMapName): ReadonlyMap<string, LwwEntry> {
    return this.state.indexes[map].allWinners();
  }

  worker<T extends JsonValue = JsonValue>(id: string): T | undefined {
    return this.get('workers', id) as T | undefined;
  }

  workers<T extends JsonValue = JsonValue>(): Map<string, T> {
    return this.entries<T>('workers');
  }

  policies<T extends JsonValue = JsonValue>(): Map<string, T> {
    return this.entries<T>('policies');
  }

  healthVerdicts<T extends JsonValue = JsonValue>(): Map<string, T> {
    return this.entries<T>('health');
  }

  /** Live entries over all maps. */
  get liveSize(): number {
    let n = 0;
    for (const map of REGISTRY_MAPS) for (const w of this.state.indexes[map].allWinners().values()) if (w.value !== null) n++;
    return n;
  }

  /**
   * A cheap fingerprint of the live view: equal on two nodes exactly when they resolve the same
   * writes (a write is identified by its (ts, by)). Tombstones are left out: whether one was
   * already dropped by a compaction does not change what the registry says.
   */
  digest(): string {
    if (this.digestCache !== undefined) return this.digestCache;
    const parts: string[] = [];
    for (const map of REGISTRY_MAPS) {
      const ids = [...this.state.indexes[map].allWinners()].filter(([, w]) => w.value !== null).map(([id, w]) => `${map}/${id}@${w.ts}:${w.by}`);
      parts.push(...ids.sort());
    }
    const text = parts.join('\n');
    this.digestCache = hex32(hashString32(text)) + hex32(hashString32(`#${text}`));
    return this.digestCache;
  }

  // ---- events -------------------------------------------------------------------------------

  /** Called with every change of a winning value (local or remote). Returns an unsubscribe. */
  onChange(cb: (change: RegistryChange) => void): () => void {
    this.changeListeners.add(cb);
    return () => this.changeListeners.delete(cb);
  }

  /** Called with every local update (V2 encoding) to push to peers. */
  onLocalUpdate(cb: (update: Uint8Array) => void): () => void {
    this.updateListeners.add(cb);
    return () => this.updateListeners.delete(cb);
  }

  /** Called after this node compacted into, or adopted, a new epoch. */
  onEpochChange(cb: (epoch: DocEpoch) => void): () => void {
    this.epochListeners.add(cb);
    return () => this.epochListeners.delete(cb);
  }

  // ---- sync primitives (used by doc-sync.ts) -------------------------------------------------

  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.state.doc);
  }

  /** What a peer with `stateVector` lacks (V2 encoding); undefined if the vector is malformed. */
  diffSince(stateVector: Uint8Array): Uint8Array | undefined {
    try {
      return Y.encodeStateAsUpdateV2(this.state.doc, stateVector);
    } catch {
      return undefined;
    }
  }

  fullState(): Uint8Array {
    return Y.encodeStateAsUpdateV2(this.state.doc);
  }

  /** Applies a peer's update of the current epoch; false when it does not decode. */
  applyRemoteUpdate(update: Uint8Array): boolean {
    if (!soundUpdate(update)) return false;
    try {
      Y.applyUpdateV2(this.state.doc, update, REMOTE);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Replaces the document with a peer's full state of a newer epoch, then re-writes every entry
   * of the old document that the new one lacks or holds an older write of (writes made here or
   * received from others while the compaction happened elsewhere). Returns false when the epoch is
   * not newer or the state does not decode.
   */
  adopt(epoch: DocEpoch, fullUpdate: Uint8Array): boolean {
    if (compareEpoch(epoch, this.state.epoch) <= 0) return false;
    if (!soundUpdate(fullUpdate)) return false;
    const doc = this.newDoc();
    try {
      Y.applyUpdateV2(doc, fullUpdate, REMOTE);
    } catch {
      doc.destroy();
      return false;
    }
    const old = this.state;
    this.swap(doc, epoch);
    this.muted = true;
    try {
      for (const map of REGISTRY_MAPS) {
        for (const [id, entry] of old.indexes[map].allWinners()) {
          const current = this.state.indexes[map].winner(id);
          if (!current || compareLww(entry, current) > 0) this.write(map, id, entry);
        }
      }
    } finally {
      this.muted = false;
    }
    this.afterEpochChange(old);
    return true;
  }

  // ---- growth and compaction -----------------------------------------------------------------

  /** Bytes of the whole document in V2 encoding (what a joiner would receive). */
  encodedSize(): number {
    return Y.encodeStateAsUpdateV2(this.state.doc).length;
  }

  /** Yjs clients in the state vector (grows by one per writer process per epoch). */
  clientCount(): number {
    return Y.decodeStateVector(this.stateVector()).size;
  }

  /** Yjs structs held in memory (items and gc ranges over all clients). O(clients). */
  structCount(): number {
    let n = 0;
    for (const structs of this.state.doc.store.clients.values()) n += structs.length;
    return n;
  }

  measure(): DocSize {
    return { bytes: this.encodedSize(), structs: this.structCount() };
  }

  /**
   * Whether the document grew past its bound. `slack` multiplies the thresholds (a node that is
   * not the compaction leader waits for twice the bound before compacting on its own).
   */
  needsCompaction(size: DocSize = this.measure(), slack = 1): boolean {
    const c = this.config;
    const overBytes = size.bytes > c.compactAboveBytes * slack && size.bytes > this.baseline.bytes * c.compactGrowthFactor * slack;
    const overStructs = size.structs > c.compactAboveStructs * slack && size.structs > this.baseline.structs * c.compactGrowthFactor * slack;
    return overBytes || overStructs;
  }

  /** Rebuilds the document from its live state into a new epoch chosen here. */
  compact(): void {
    const old = this.state;
    const now = this.deps.clock.now();
    const doc = this.newDoc();
    doc.transact(() => {
      for (const map of REGISTRY_MAPS) {
        const ymap = doc.getMap<unknown>(map);
        for (const [id, entry] of old.indexes[map].allWinners()) {
          if (entry.value === null && now - entry.ts > this.config.tombstoneTtlMs) continue;
          ymap.set(entryKey(id, doc.clientID), toStored(entry));
        }
      }
    }, REMOTE);
    this.swap(doc, { n: old.epoch.n + 1, id: this.deps.rng.uint32() });
    this.afterEpochChange(old);
  }

  destroy(): void {
    this.state.unobserve();
    this.state.doc.destroy();
  }

  // ---- internals ----------------------------------------------------------------------------

  private newDoc(): Y.Doc {
    const doc = new Y.Doc({ gc: true });
    // Yjs draws client ids from global randomness; ours come from the injected rng (replayable).
    doc.clientID = this.deps.rng.uint32();
    return doc;
  }

  private swap(doc: Y.Doc, epoch: DocEpoch): void {
    this.state.unobserve();
    this.state = this.attach(doc, epoch);
  }

  private afterEpochChange(old: DocState): void {
    const changes: RegistryChange[] = [];
    for (const map of REGISTRY_MAPS) {
      const before = old.indexes[map].allWinners();
      const after = this.state.indexes[map].allWinners();
      const ids = new Set([...before.keys(), ...after.keys()]);
      for (const id of ids) {
        const b = before.get(id);
        const a = after.get(id);
        const bv = b && b.value !== null ? b.value : undefined;
        const av = a && a.value !== null ? a.value : undefined;
        if (JSON.stringify(bv) !== JSON.stringify(av)) changes.push({ map, id, value: av, local: false });
      }
    }
    old.doc.destroy();
    this.baseline = this.measure();
    this.compactions++;
    this.digestCache = undefined;
    for (const c of changes) this.emitChange(c);
    for (const cb of this.epochListeners) cb(this.state.epoch);
  }

  private attach(doc: Y.Doc, epoch: DocEpoch): DocState {
    const seen = (e: LwwEntry) => this.clockTs.observe(e.ts);
    const indexes = {} as Record<RegistryMapName, LwwIndex>;
    const observers: Array<() => void> = [];
    for (const map of REGISTRY_MAPS) {
      const ymap = doc.getMap<unknown>(map);
      indexes[map] = LwwIndex.build(ymap, seen);
      const observer = (event: Y.YMapEvent<unknown>) => {
        const changes = indexes[map].update(ymap, event.keysChanged);
        if (changes.length === 0) return;
        this.digestCache = undefined;
        if (this.muted) return;
        const local = event.transaction.origin !== REMOTE;
        for (const c of changes) this.emitWinnerChange(map, c, local);
      };
      ymap.observe(observer);
      observers.push(() => ymap.unobserve(observer));
    }
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || !this.inLocalWrite) return;
      for (const cb of this.updateListeners) cb(update);
    };
    doc.on('updateV2', onUpdate);
    observers.push(() => doc.off('updateV2', onUpdate));
    return { doc, epoch, indexes, unobserve: () => observers.forEach((off) => off()) };
  }

  private emitWinnerChange(map: RegistryMapName, c: WinnerChange, local: boolean): void {
    const before = c.before && c.before.value !== null ? c.before.value : undefined;
    const after = c.after && c.after.value !== null ? c.after.value : undefined;
    if (before === undefined && after === undefined) return;
    this.emitChange({ map, id: c.id, value: after, local });
  }

  private emitChange(change: RegistryChange): void {
    for (const cb of this.changeListeners) cb(change);
  }
}

function hex32(x: number): string {
  return x.toString(16).padStart(8, '0');
}

/**
 * Yjs applies some malformed updates without complaint and only fails later, when the document is
 * encoded (a zero-length delete range or struct makes every later encode throw, which would stop
 * this node syncing for good). The packet fuzzer found this; such updates are refused up front.
 */
function soundUpdate(update: Uint8Array): boolean {
  try {
    const { structs, ds } = Y.decodeUpdateV2(update);
    for (const s of structs) if (!(s.length > 0)) return false;
    for (const items of ds.clients.values()) for (const d of items) if (!(d.len > 0)) return false;
    return true;
  } catch {
    return false;
  }
}
