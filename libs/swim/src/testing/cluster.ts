import {
  CountingMetrics,
  hashString32,
  MemoryNetwork,
  SeededRng,
  VirtualScheduler,
  type LinkConditions,
  type MemoryTransport,
  type Metrics,
  type Rng,
} from '@drover/runtime';
import { lanConfig, localConfig, type SwimConfig } from '../config';
import type { MemberEvent, SwimDelegate } from '../delegate';
import type { NodeIdentity } from '../identity';
import type { Keyring } from '../keyring';
import { SwimNode } from '../swim-node';

export interface SwimClusterOptions {
  seed: string | number;
  /** Nodes started at once (they join through node-0). */
  size: number;
  /** Timing preset; defaults to the LAN defaults. */
  preset?: 'lan' | 'local';
  /** Overrides applied to every node's config. */
  config?: Partial<SwimConfig>;
  /** Default link conditions (delay, jitter, loss). */
  link?: Partial<LinkConditions>;
  keyring?: Keyring;
  /** A keyring per node instead of one shared `keyring` (key rotation is done node by node). */
  keyringFor?: (name: string) => Keyring | undefined;
  /** Each node's identity (node identities on). */
  identityFor?: (name: string) => NodeIdentity | undefined;
  /** Shared by all nodes; defaults to one CountingMetrics. */
  metrics?: Metrics;
  /** Reuse a scheduler/network (the mesh and the simulator run more on the same world). */
  scheduler?: VirtualScheduler;
  network?: MemoryNetwork;
  delegateFor?: (name: string) => SwimDelegate | undefined;
  /** Observes every member event of every node. */
  onEvent?: (observer: string, event: MemberEvent) => void;
}

export interface ClusterNode {
  readonly name: string;
  readonly address: string;
  node: SwimNode;
  transport: MemoryTransport;
  /** false once crashed, left or shut down. */
  running: boolean;
  /** Restarts so far (each restart is a new process with fresh state). */
  generation: number;
}

/**
 * A deterministic SWIM cluster on a VirtualScheduler and a MemoryNetwork, everything drawn from
 * one seed: create N nodes, crash, restart, partition, leave, and check convergence. Reused by the
 * mesh tests and the simulator. On failure, print `cluster.replay` to reproduce the run.
 */
export class SwimCluster {
  readonly scheduler: VirtualScheduler;
  readonly network: MemoryNetwork;
  readonly rng: Rng;
  readonly metrics: Metrics;
  readonly nodes = new Map<string, ClusterNode>();
  private nextIndex = 0;

  constructor(readonly options: SwimClusterOptions) {
    this.rng = new SeededRng(options.seed);
    this.scheduler = options.scheduler ?? new VirtualScheduler();
    this.network =
      options.network ?? new MemoryNetwork({ clock: this.scheduler, timers: this.scheduler, rng: this.rng.fork('network') }, options.link ?? { delayMs: 1, jitterMs: 2 });
    this.metrics = options.metrics ?? new CountingMetrics();
  }

  /** Creates a cluster and starts `size` nodes joining through node-0. */
  static create(options: SwimClusterOptions): SwimCluster {
    const cluster = new SwimCluster(options);
    for (let i = 0; i < options.size; i++) cluster.addNode();
    return cluster;
  }

  /** One line that identifies this run for a bug report. */
  get replay(): string {
    return `seed=${JSON.stringify(String(this.options.seed))} size=${this.options.size} preset=${this.options.preset ?? 'lan'}`;
  }

  /** Starts a new node that joins through the first running node(s). */
  addNode(name = `node-${this.nextIndex}`): ClusterNode {
    const index = this.nextIndex++;
    const address = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:7946`;
    const entry = { name, address, running: false, generation: 0 } as ClusterNode;
    this.nodes.set(name, entry);
    this.boot(entry);
    return entry;
  }

  get(name: string): ClusterNode {
    const entry = this.nodes.get(name);
    if (!entry) throw new Error(`no node ${name}`);
    return entry;
  }

  runningNodes(): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  /** Stops a node abruptly: no goodbye, its address goes silent. */
  crash(name: string): void {
    const entry = this.get(name);
    if (!entry.running) return;
    entry.running = false;
    entry.node.shutdown();
    entry.transport.close();
  }

  /** Starts a crashed node again at the same address with fresh state (incarnation 0). */
  restart(name: string): ClusterNode {
    const entry = this.get(name);
    if (entry.running) this.crash(name);
    entry.generation++;
    this.boot(entry);
    return entry;
  }

  /** Graceful leave; the node is shut down after `lingerMs` so its goodbye can spread. */
  leave(name: string, lingerMs = 2_000): void {
    const entry = this.get(name);
    if (!entry.running) return;
    entry.running = false;
    entry.node.leave();
    this.scheduler.setTimeout(() => {
      entry.node.shutdown();
      entry.transport.close();
    }, lingerMs);
  }

  /** Cuts the network between groups of node names (each group can talk only within itself). */
  partition(...groups: string[][]): void {
    this.network.partition(...groups.map((g) => g.map((n) => this.get(n).address)));
  }

  heal(): void {
    this.network.heal();
  }

  /** Every running node sees exactly the running nodes, all alive (no suspects, no ghosts). */
  converged(): boolean {
    const running = this.runningNodes();
    // O(n): live count, no suspects, and the same live-name set hash as the ground truth.
    let expected = 0;
    for (const n of running) expected = (expected + hashString32(n.name)) >>> 0;
    for (const observer of running) {
      const node = observer.node;
      if (node.liveCount !== running.length || node.suspectCount !== 0 || node.liveSetDigest !== expected) return false;
    }
    return true;
  }

  /** The exact (O(n²)) form of converged(), for assertions that must not rely on a hash. */
  convergedExactly(): boolean {
    const running = this.runningNodes();
    for (const observer of running) {
      if (observer.node.liveCount !== running.length) return false;
      for (const other of running) {
        const m = observer.node.member(other.name);
        if (!m || m.state !== 'alive') return false;
      }
    }
    return true;
  }

  /** Number of running nodes whose table lists `name` in `state`. */
  countObservers(name: string, state: 'alive' | 'suspect' | 'dead' | 'left'): number {
    let count = 0;
    for (const observer of this.runningNodes()) {
      if (observer.name !== name && observer.node.member(name)?.state === state) count++;
    }
    return count;
  }

  advance(ms: number): void {
    this.scheduler.advance(ms);
  }

  /** Runs virtual time until `done()` or `limitMs`; true if done. */
  runUntil(done: () => boolean, limitMs: number, stepMs = 100): boolean {
    return this.scheduler.runUntil(done, limitMs, stepMs);
  }

  shutdown(): void {
    for (const entry of this.nodes.values()) {
      if (!entry.node) continue;
      entry.node.shutdown();
      entry.transport.close();
      entry.running = false;
    }
  }

  private boot(entry: ClusterNode): void {
    const preset = this.options.preset === 'local' ? localConfig : lanConfig;
    const config = preset(entry.name, { keyring: this.options.keyringFor?.(entry.name) ?? this.options.keyring, identity: this.options.identityFor?.(entry.name), ...this.options.config });
    entry.transport = this.network.createTransport(entry.address);
    entry.node = new SwimNode(
      {
        clock: this.scheduler,
        timers: this.scheduler,
        rng: this.rng.fork(`swim:${entry.name}#${entry.generation}`),
        transport: entry.transport,
        metrics: this.metrics,
        delegate: this.options.delegateFor?.(entry.name),
      },
      config,
    );
    const onEvent = this.options.onEvent;
    if (onEvent) entry.node.onMemberEvent((event) => onEvent(entry.name, event));
    const seeds = this.seedAddressesFor(entry.name);
    entry.running = true;
    entry.node.start(seeds);
  }

  private seedAddressesFor(name: string): string[] {
    const others = this.runningNodes().filter((n) => n.name !== name);
    if (others.length === 0) return [];
    const first = others[0];
    const random = others[this.rng.fork(`seeds:${name}`).int(others.length)];
    return [...new Set([first.address, random.address])];
  }
}
