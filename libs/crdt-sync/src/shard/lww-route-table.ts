import { hashString32 } from '@drover/runtime';
import { ByteReader, ByteWriter, malformed, tryDecode } from '../wire/bytes';
import type { ShardAdapter } from './shard-codec';

/**
 * A reference shard state: prefix hash → worker, LWW by (time, origin). It is the simplest state
 * with the radix tree's op semantics, used to test the channel and by the simulator until the
 * tree's codecs plug in. Each origin's entries are kept apart so a snapshot can replace exactly
 * what that origin contributed; lookups resolve across origins.
 */
export interface RouteOp {
  /** 32-bit hash of a token prefix. */
  prefix: number;
  worker: string;
  /** The origin's logical time of the observation. */
  time: number;
}

interface Observation {
  worker: string;
  time: number;
}

const MAX_WORKER_ID_BYTES = 512;

export class LwwRouteTable implements ShardAdapter<RouteOp> {
  private readonly byOrigin = new Map<string, Map<number, Observation>>();

  /**
   * @param selfId the local node's id: its own observations live under it.
   * @param maxEntriesPerOrigin bound on each origin's map (oldest-time entries are evicted).
   */
  constructor(
    readonly selfId: string,
    private readonly maxEntriesPerOrigin = 100_000,
  ) {}

  /** Records a local observation; returns the op to append to the shard. */
  observe(prefix: number, worker: string, time: number): RouteOp {
    const op = { prefix: prefix >>> 0, worker, time };
    this.applyOp(this.selfId, op);
    return op;
  }

  /** The worker that most recently (LWW by (time, origin)) served `prefix`, on any node. */
  lookup(prefix: number): string | undefined {
    let best: { obs: Observation; origin: string } | undefined;
    for (const [origin, map] of this.byOrigin) {
      const obs = map.get(prefix >>> 0);
      if (!obs) continue;
      if (!best || obs.time > best.obs.time || (obs.time === best.obs.time && origin > best.origin)) best = { obs, origin };
    }
    return best?.obs.worker;
  }

  applyOp(origin: string, op: RouteOp): void {
    let map = this.byOrigin.get(origin);
    if (!map) this.byOrigin.set(origin, (map = new Map()));
    const held = map.get(op.prefix);
    if (held && (held.time > op.time || (held.time === op.time && held.worker >= op.worker))) return;
    // Re-insert so Map order tracks recency, which makes eviction of the oldest O(1).
    map.delete(op.prefix);
    map.set(op.prefix, { worker: op.worker, time: op.time });
    if (map.size > this.maxEntriesPerOrigin) map.delete(map.keys().next().value!);
  }

  encodeOps(ops: readonly RouteOp[]): Uint8Array {
    const w = new ByteWriter(ops.length * 12 + 8).varUint(ops.length);
    for (const op of ops) w.varUint(op.prefix).string(op.worker).varUint(op.time);
    return w.finish();
  }

  decodeOps(bytes: Uint8Array, maxOps: number): RouteOp[] | undefined {
    return tryDecode(bytes, (r) => {
      const ops = readOps(r, maxOps);
      r.end();
      return ops;
    });
  }

  encodeSnapshot(): Uint8Array {
    const own = this.byOrigin.get(this.selfId) ?? new Map<number, Observation>();
    const w = new ByteWriter(own.size * 12 + 8).varUint(own.size);
    for (const [prefix, obs] of own) w.varUint(prefix).string(obs.worker).varUint(obs.time);
    return w.finish();
  }

  applySnapshot(origin: string, bytes: Uint8Array): boolean {
    const ops = tryDecode(bytes, (r) => {
      const list = readOps(r, this.maxEntriesPerOrigin);
      r.end();
      return list;
    });
    if (!ops) return false;
    const map = new Map<number, Observation>();
    for (const op of ops) map.set(op.prefix, { worker: op.worker, time: op.time });
    this.byOrigin.set(origin, map);
    return true;
  }

  /** Anti-entropy fingerprint of this node's own entries (no origin) or of `origin`'s as held here. */
  contentDigest(origin: string = this.selfId): string {
    const entries = this.originEntries(origin);
    if (entries.length === 0) return 'empty';
    const text = entries.map((e) => e.join(':')).join(',');
    return hex32(hashString32(text)) + hex32(hashString32(`#${text}`));
  }

  /** One origin's entries, sorted (for equality checks in tests). */
  originEntries(origin: string): Array<[number, string, number]> {
    const map = this.byOrigin.get(origin);
    if (!map) return [];
    return [...map].map(([p, o]) => [p, o.worker, o.time] as [number, string, number]).sort((a, b) => a[0] - b[0]);
  }

  origins(): string[] {
    return [...this.byOrigin.keys()].sort();
  }

  get size(): number {
    let n = 0;
    for (const m of this.byOrigin.values()) n += m.size;
    return n;
  }
}

function readOps(r: ByteReader, maxOps: number): RouteOp[] {
  const n = r.varUint(maxOps);
  // Every op takes at least 3 bytes: refuse counts the input cannot hold before allocating.
  if (n * 3 > r.remaining) malformed('op count beyond input');
  const ops: RouteOp[] = [];
  for (let i = 0; i < n; i++) ops.push({ prefix: r.varUint(0xffffffff), worker: r.string(MAX_WORKER_ID_BYTES), time: r.varUint() });
  return ops;
}

function hex32(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}
