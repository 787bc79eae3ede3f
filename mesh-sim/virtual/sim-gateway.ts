import { createMeshNode, PacketSyncTransport, type MeshNode } from '@drover/mesh';
import { PrefixShards, type TreeOp } from '@drover/radix-tree';
import type { MemoryNetwork, MemoryTransport, Rng, VirtualScheduler } from '@drover/runtime';
import { lanConfig, SwimNode, type MemberEvent } from '@drover/swim';

/** What the simulation needs of a node: the full MeshNode, or SWIM alone for very large clusters. */
export interface SimNode {
  members(): { name: string; state: string }[];
  onMemberEvent(listener: (e: MemberEvent) => void): unknown;
  appendRouteOp(op: TreeOp): void;
  digest(): { registry: string };
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
  private transports: MemoryTransport[] = [];

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly sched: VirtualScheduler,
    private readonly rng: Rng,
    private readonly swimNet: MemoryNetwork,
    private readonly syncNet: MemoryNetwork,
    private readonly plantedBugs: { noRefutation?: boolean },
    /** Membership only (no state sync): full-mesh sync is sized for tens of gateways, not hundreds. */
    private readonly membershipOnly = false,
  ) {}

  get swimAddress(): string {
    return `10.0.${Math.floor(this.index / 250)}.${(this.index % 250) + 1}:7946`;
  }

  get syncAddress(): string {
    return this.swimAddress.replace(':7946', ':7947');
  }

  start(seeds: string[]): void {
    this.shards = new PrefixShards(4_000_000);
    this.incarnations++;
    const swim = this.swimNet.createTransport(this.swimAddress);
    const sync = this.syncNet.createTransport(this.syncAddress);
    this.transports = [swim, sync];
    const swimConfig = lanConfig(this.name, { plantedBugs: this.plantedBugs });
    if (this.membershipOnly) {
      sync.close();
      this.transports = [swim];
      const node = new SwimNode({ clock: this.sched, timers: this.sched, rng: this.rng.fork(`${this.name}#${this.incarnations}`), transport: swim }, swimConfig);
      this.mesh = {
        members: () => node.allMembers(),
        onMemberEvent: (l) => node.onMemberEvent(l),
        appendRouteOp: () => undefined,
        digest: () => ({ registry: 'membership-only' }),
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
        shard: this.shards,
      },
      { nodeName: this.name, swim: swimConfig, httpUrl: `http://${this.name}` },
    );
    this.mesh = mesh;
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

  /** Names this node believes alive (itself included). */
  aliveView(): Set<string> {
    return new Set(this.mesh.members().filter((m) => m.state === 'alive').map((m) => m.name));
  }
}
