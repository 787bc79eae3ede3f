import { CountingMetrics, type Rng, SeededRng, VirtualScheduler } from '@drover/runtime';
import { LwwRouteTable, type RouteOp } from '../shard/lww-route-table';
import { SyncNode } from '../sync-node';
import type { SyncNodeInit } from '../sync-node-config';

/**
 * An in-process network of SyncNodes in virtual time, after the Yjs test connector: frames wait
 * in one queue and are delivered one random frame at a time (so any reordering happens), may be
 * duplicated or lost, and links go down and up at will. `flush()` heals everything and runs until
 * all replicas agree. Every random choice comes from the seed, so a failure replays from it.
 */
export interface SyncTestNetworkOptions {
  seed: string | number;
  nodes: number;
  /** Per-node config on top of test-friendly defaults. */
  config?: Omit<SyncNodeInit, 'nodeId'>;
  /** Probability a delivered frame is also put back in the queue (delivered twice). */
  duplicateProbability?: number;
  /** Probability a frame is lost in transit. */
  lossProbability?: number;
}

export interface TestSyncNode {
  id: string;
  node: SyncNode<RouteOp>;
  table: LwwRouteTable;
  metrics: CountingMetrics;
}

interface Frame {
  from: string;
  to: string;
  bytes: Uint8Array;
}

export class SyncTestNetwork {
  readonly scheduler = new VirtualScheduler();
  readonly rng: Rng;
  readonly nodes: TestSyncNode[] = [];
  private queue: Frame[] = [];
  private readonly up = new Set<string>();
  private readonly muted = new Set<string>();
  private readonly options: SyncTestNetworkOptions;
  private nextIndex = 0;
  private logicalTime = 0;
  framesDelivered = 0;
  bytesDelivered = 0;

  constructor(options: SyncTestNetworkOptions) {
    this.options = options;
    this.rng = new SeededRng(options.seed).fork('network');
    for (let i = 0; i < options.nodes; i++) this.addNode();
  }

  /** Adds a node and links it to every other node (a joiner, when called after start). */
  addNode(config: Omit<SyncNodeInit, 'nodeId'> = {}): TestSyncNode {
    const id = `node-${this.nextIndex++}`;
    const table = new LwwRouteTable(id);
    const metrics = new CountingMetrics();
    const node = new SyncNode<RouteOp>(
      {
        clock: this.scheduler,
        timers: this.scheduler,
        rng: new SeededRng(this.options.seed).fork(id),
        metrics,
        shard: table,
        send: (to, bytes) => this.queue.push({ from: id, to, bytes }),
      },
      { nodeId: id, ...this.options.config, ...config },
    );
    node.start();
    const entry = { id, node, table, metrics };
    this.nodes.push(entry);
    for (const other of this.nodes) this.link(entry.id, other.id);
    return entry;
  }

  byId(id: string): TestSyncNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  get pendingFrames(): number {
    return this.queue.length;
  }

  isLinked(a: string, b: string): boolean {
    return this.up.has(linkKey(a, b));
  }

  link(a: string, b: string): void {
    if (a === b || this.isLinked(a, b)) return;
    this.up.add(linkKey(a, b));
    this.byId(a).node.peerJoined(b);
    this.byId(b).node.peerJoined(a);
  }

  unlink(a: string, b: string): void {
    if (!this.up.delete(linkKey(a, b))) return;
    this.byId(a).node.peerLeft(b);
    this.byId(b).node.peerLeft(a);
    // A broken stream loses what was in flight on it.
    this.queue = this.queue.filter((f) => !((f.from === a && f.to === b) || (f.from === b && f.to === a)));
  }

  disconnect(id: string): void {
    for (const other of this.nodes) this.unlink(id, other.id);
  }

  reconnect(id: string): void {
    for (const other of this.nodes) this.link(id, other.id);
  }

  /** Splits the nodes into groups with no links between groups (links inside groups come up). */
  partition(groups: string[][]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    for (const a of this.nodes)
      for (const b of this.nodes) {
        if (a.id >= b.id) continue;
        if (groupOf.get(a.id) === groupOf.get(b.id)) this.link(a.id, b.id);
        else this.unlink(a.id, b.id);
      }
  }

  heal(): void {
    for (const a of this.nodes) for (const b of this.nodes) if (a.id < b.id) this.link(a.id, b.id);
  }

  /** Delivers one random queued frame; false when the queue is empty. */
  deliverOne(): boolean {
    if (this.queue.length === 0) return false;
    const i = this.rng.int(this.queue.length);
    const frame = this.queue[i];
    this.queue[i] = this.queue[this.queue.length - 1];
    this.queue.pop();
    if (this.options.duplicateProbability && this.rng.bool(this.options.duplicateProbability)) this.queue.push(frame);
    if (this.options.lossProbability && this.rng.bool(this.options.lossProbability)) return true;
    if (!this.isLinked(frame.from, frame.to) || this.muted.has(frame.from)) return true;
    this.framesDelivered++;
    this.bytesDelivered += frame.bytes.length;
    this.byId(frame.to).node.onMessage(frame.from, frame.bytes);
    return true;
  }

  /** Loses every frame `id` sends while its links stay up (a node hung without membership noticing). */
  mute(id: string, muted = true): void {
    if (muted) this.muted.add(id);
    else this.muted.delete(id);
  }

  /** Advances time in steps, delivering everything queued after each step. */
  settle(ms: number, stepMs = 20): void {
    for (let t = 0; t < ms; t += stepMs) {
      this.advance(stepMs);
      while (this.deliverOne());
    }
  }

  /** Advances virtual time (timers flush, ack, retransmit). */
  advance(ms: number): void {
    this.scheduler.advance(ms);
  }

  /** A random routing observation on a random node, applied locally and appended to its shard. */
  randomRouteOp(node = this.rng.pick(this.nodes), prefixSpace = 500, workers = 8): void {
    const op = node.table.observe(this.rng.int(prefixSpace), `w${this.rng.int(workers)}`, ++this.logicalTime);
    node.node.append(op);
  }

  /** A random registry write (upsert or remove) on a random node. */
  randomRegistryOp(node = this.rng.pick(this.nodes), workers = 20): void {
    const id = `worker-${this.rng.int(workers)}`;
    const roll = this.rng.int(10);
    if (roll < 5) node.node.registry.upsertWorker(id, { url: `http://${id}:${this.rng.int(1000)}`, by: node.id });
    else if (roll < 7) node.node.registry.removeWorker(id);
    else if (roll < 9) node.node.registry.setPolicy(`model-${this.rng.int(3)}`, { policy: this.rng.pick(['cache_aware', 'round_robin']) });
    else node.node.registry.setHealth(node.id, { healthy: this.rng.bool() });
  }

  /**
   * Heals every link, stops losing frames, and runs (delivering every queued frame in random
   * order, then advancing time) until all replicas agree or `limitMs` of virtual time passes.
   */
  flush(limitMs = 60_000): boolean {
    this.heal();
    this.muted.clear();
    const lossBefore = this.options.lossProbability;
    this.options.lossProbability = 0;
    try {
      const end = this.scheduler.now() + limitMs;
      while (this.scheduler.now() < end) {
        let guard = 0;
        while (this.deliverOne()) if (++guard > 1_000_000) throw new Error('delivery did not settle');
        if (this.converged()) return true;
        this.advance(20);
      }
      return this.converged();
    } finally {
      this.options.lossProbability = lossBefore;
    }
  }

  /** All registry views equal, all shard versions equal, and every copy of a shard equals its origin's. */
  converged(): boolean {
    return this.divergence() === undefined;
  }

  /** A description of the first difference found, or undefined when all replicas agree. */
  divergence(): string | undefined {
    const [first, ...rest] = this.nodes;
    const d0 = first.node.digest();
    for (const n of rest) {
      const d = n.node.digest();
      if (d.registry !== d0.registry) return `registry of ${n.id} differs from ${first.id}`;
      if (d.shards !== d0.shards) return `shard versions of ${n.id} differ from ${first.id}`;
    }
    for (const origin of this.nodes) {
      const truth = JSON.stringify(origin.table.originEntries(origin.id));
      for (const n of this.nodes) {
        if (n === origin) continue;
        if (JSON.stringify(n.table.originEntries(origin.id)) !== truth) return `${n.id}'s copy of ${origin.id}'s shard differs`;
      }
    }
    return undefined;
  }

  stop(): void {
    for (const n of this.nodes) n.node.stop();
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
