import { createMeshNode, PacketSyncTransport, type MeshNode } from '@drover/mesh';
import type { AntiEntropyStats, ShardAdapter, WorkerLoad } from '@drover/crdt-sync';
import { PrefixShards, type TreeOp } from '@drover/radix-tree';
import type { MemoryNetwork, MemoryTransport, Rng, VirtualScheduler } from '@drover/runtime';
import { lanConfig, SwimNode, type MemberEvent } from '@drover/swim';

/** What the simulation needs of a node: the full MeshNode, or SWIM alone for very large clusters. */
export interface SimNode {
  members(): { name: string; state: string }[];
  onMemberEvent(listener: (e: MemberEvent) => void): unknown;
  appendRouteOp(op: TreeOp): void;
  digest(): { registry: string; shards?: string };
  /** This node's own load per worker (the gateway publishes in-flight and awaiting-first-token). */
  setLocalLoad(workerId: string, load: WorkerLoad): void;
  /** Load per worker summed over this node and every peer it holds a table from. */
  meshLoad(): Map<string, WorkerLoad>;
  stop(): void;
  leave(lingerMs: number): Promise<void>;
}

/**
 * One gateway node of the simulation: the production MeshNode (SWIM + state sync) and routing
 * state (PrefixShards), minus HTTP. `alive` is false while crashed; `paused` while SIGSTOPped
 * (emulated by cutting it off the network and from clients).
 */
export class SimGateway {
  mesh!: SimNode;
  shards!: PrefixShards;
  alive = false;
  paused = false;
  incarnations = 0;
  /** Virtual time this incarnation started (anti-entropy bytes are per second of its life). */
  startedAtMs = 0;
  private transports: MemoryTransport[] = [];
  private meshNode: MeshNode<TreeOp> | undefined;

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly sched: VirtualScheduler,
    private readonly rng: Rng,
    private readonly swimNet: MemoryNetwork,
    private readonly syncNet: MemoryNetwork,
    private readonly plantedBugs: { noRefutation?: boolean; dropRouteOps?: boolean },
    /** Membership only (no state sync): full-mesh sync is sized for tens of gateways, not hundreds. */
    readonly membershipOnly = false,
  ) {}

  get swimAddress(): string {
    return `10.0.${Math.floor(this.index / 250)}.${(this.index % 250) + 1}:7946`;
  }

  get syncAddress(): string {
    return this.swimAddress.replace(':7946', ':7947');
  }

  start(seeds: string[]): void {
    this.shards = new PrefixShards(4_000_000);
    this.localLoad.clear();
    this.incarnations++;
    this.startedAtMs = this.sched.now();
    const swim = this.swimNet.createTransport(this.swimAddress);
    const sync = this.syncNet.createTransport(this.syncAddress);
    this.transports = [swim, sync];
    const swimConfig = lanConfig(this.name, { plantedBugs: { noRefutation: this.plantedBugs.noRefutation } });
    this.meshNode = undefined;
    if (this.membershipOnly) {
      sync.close();
      this.transports = [swim];
      const node = new SwimNode({ clock: this.sched, timers: this.sched, rng: this.rng.fork(`${this.name}#${this.incarnations}`), transport: swim }, swimConfig);
      this.mesh = {
        members: () => node.allMembers(),
        onMemberEvent: (l) => node.onMemberEvent(l),
        appendRouteOp: () => undefined,
        digest: () => ({ registry: 'membership-only' }),
        setLocalLoad: () => undefined,
        meshLoad: () => new Map(),
        stop: () => node.shutdown(),
        leave: (ms) => {
          node.leave();
          return new Promise((r) => this.sched.setTimeout(() => (node.shutdown(), r()), ms));
        },
      };
      node.start(seeds.filter((s) => s !== this.swimAddress));
      this.alive = true;
      return;
    }
    const mesh: MeshNode<TreeOp> = createMeshNode<TreeOp>(
      {
        clock: this.sched,
        timers: this.sched,
        rng: this.rng.fork(`${this.name}#${this.incarnations}`),
        swimTransport: swim,
        syncTransport: new PacketSyncTransport(sync, this.name),
        shard: this.plantedBugs.dropRouteOps && this.index === 1 ? dropEveryNthOp(this.shards, 50) : this.shards,
      },
      { nodeName: this.name, swim: swimConfig, httpUrl: `http://${this.name}` },
    );
    this.mesh = mesh;
    this.meshNode = mesh;
    mesh.start(seeds.filter((s) => s !== this.swimAddress));
    this.alive = true;
  }

  crash(): void {
    if (!this.alive) return;
    this.alive = false;
    this.mesh.stop();
    for (const t of this.transports) t.close();
  }

  leave(): void {
    if (!this.alive) return;
    this.alive = false;
    void this.mesh.leave(2000).then(() => this.transports.forEach((t) => t.close()));
  }

  /** This incarnation's routing-shard anti-entropy counters (undefined with SWIM alone). */
  antiEntropy(): AntiEntropyStats | undefined {
    return this.meshNode?.sync.stats().antiEntropy;
  }

  /** This node's own per-worker load, as published to the mesh (reset with each incarnation). */
  private readonly localLoad = new Map<string, WorkerLoad>();

  /**
   * Counts a request of this incarnation on a worker: `dispatch` in flight and awaiting its first
   * token, `first` past prefill, `end` gone. Returns the function for the next step, so a request
   * of a crashed incarnation never touches the counters of the next one.
   */
  track(workerId: string): { first(): void; end(): void } {
    const incarnation = this.incarnations;
    let awaiting = true;
    let open = true;
    const bump = (inFlight: number, queued: number): void => {
      if (incarnation !== this.incarnations || !this.alive) return;
      const l = this.localLoad.get(workerId) ?? { inFlight: 0, queued: 0 };
      const next = { inFlight: l.inFlight + inFlight, queued: l.queued + queued };
      this.localLoad.set(workerId, next);
      this.mesh.setLocalLoad(workerId, next);
    };
    bump(1, 1);
    return {
      first: () => {
        if (!open || !awaiting) return;
        awaiting = false;
        bump(0, -1);
      },
      end: () => {
        if (!open) return;
        open = false;
        bump(-1, awaiting ? -1 : 0);
        awaiting = false;
      },
    };
  }

  /** This node's own per-worker load (what it publishes). */
  ownLoad(): ReadonlyMap<string, WorkerLoad> {
    return this.localLoad;
  }

  /**
   * Content digests of the routing state this node holds, per origin: its own shard under its own
   * name, every peer's replica under the peer's. Equal across nodes once sync is quiet.
   */
  routingDigests(origins: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const o of origins) out[o] = this.shards.digestOf(o === this.name ? 'local' : o);
    return out;
  }

  /** Names this node believes alive (itself included). */
  aliveView(): Set<string> {
    return new Set(this.mesh.members().filter((m) => m.state === 'alive').map((m) => m.name));
  }
}

/**
 * Planted bug `drop-route-ops`: this node silently skips every n-th routing op it receives from
 * peers (its replicas diverge while versions still advance), which `state_convergence` must catch.
 * The wrapper has no `contentDigest`, so anti-entropy on this node compares versions only and
 * cannot repair the damage: only the checker can see it.
 */
function dropEveryNthOp(shards: PrefixShards, n: number): ShardAdapter<TreeOp> {
  let seen = 0;
  return {
    encodeOps: (ops) => shards.encodeOps(ops),
    decodeOps: (bytes, maxOps) => shards.decodeOps(bytes, maxOps),
    applyOp: (origin, op) => {
      if (++seen % n !== 0) shards.applyOp(origin, op);
    },
    encodeSnapshot: () => shards.encodeSnapshot(),
    applySnapshot: (origin, bytes) => shards.applySnapshot(origin, bytes),
  };
}
