import { SyncNode, type ShardAdapter, type SyncNodeInit, type SyncStats, type WorkerLoad, type RegistryDoc } from '@drover/crdt-sync';
import { noopLogger, noopMetrics, type Clock, type Logger, type Metrics, type PacketTransport, type Rng, type Timers } from '@drover/runtime';
import { SwimNode, type Member, type MemberEvent, type SwimConfig } from '@drover/swim';
import { decodeMetadata, encodeMetadata, type NodeMetadata } from './metadata';
import type { SyncTransport } from './sync-transport';

export interface MeshNodeDeps<Op> {
  clock: Clock;
  timers: Timers;
  rng: Rng;
  /** SWIM's datagram + stream path (UDP/TCP in production, the memory network in simulation). */
  swimTransport: PacketTransport;
  syncTransport: SyncTransport;
  /** The routing state the sync channel carries (the radix trees' PrefixShards). */
  shard: ShardAdapter<Op>;
  log?: Logger;
  metrics?: Metrics;
}

export interface MeshNodeConfig {
  nodeName: string;
  swim: SwimConfig;
  httpUrl: string;
  version?: string;
  sync?: Omit<SyncNodeInit, 'nodeId'>;
}

export interface MeshMember {
  name: string;
  address: string;
  state: string;
  incarnation: number;
  http?: string;
  sync?: string;
}

export interface MeshStatus {
  node: string;
  members: MeshMember[];
  sync: SyncStats;
  digest: { registry: string; shards: string; members: string };
}

/**
 * One gateway's place in the mesh: SWIM membership decides who the peers are; state sync (the
 * registry document, the routing shards and the load table) runs with exactly those peers. The
 * same object graph runs in the gateway (real sockets) and in mesh-sim (virtual time).
 */
export class MeshNode<Op> {
  readonly swim: SwimNode;
  readonly sync: SyncNode<Op>;
  private readonly log: Logger;
  private readonly peerAddresses = new Map<string, string>();
  private readonly listeners = new Set<(e: MemberEvent) => void>();
  private started = false;

  constructor(private readonly deps: MeshNodeDeps<Op>, readonly config: MeshNodeConfig) {
    this.log = deps.log ?? noopLogger;
    const metadata: NodeMetadata = { http: config.httpUrl, sync: deps.syncTransport.localAddress, v: config.version ?? '' };
    this.swim = new SwimNode(
      { clock: deps.clock, timers: deps.timers, rng: deps.rng.fork(`swim:${config.nodeName}`), transport: deps.swimTransport, log: deps.log, metrics: deps.metrics ?? noopMetrics },
      { ...config.swim, name: config.nodeName, metadata: encodeMetadata(metadata) },
    );
    this.sync = new SyncNode<Op>(
      {
        clock: deps.clock,
        timers: deps.timers,
        rng: deps.rng.fork(`sync:${config.nodeName}`),
        shard: deps.shard,
        log: deps.log,
        metrics: deps.metrics,
        send: (peer, bytes) => {
          const address = this.peerAddresses.get(peer);
          if (address) deps.syncTransport.send(peer, address, bytes);
        },
      },
      { ...(config.sync ?? {}), nodeId: config.nodeName },
    );
    deps.syncTransport.onFrame((peer, frame) => {
      // Frames only count from current members: a node SWIM does not know is not a peer yet.
      if (this.peerAddresses.has(peer)) this.sync.onMessage(peer, frame);
      else (deps.metrics ?? noopMetrics).inc('drover_mesh_dropped_messages_total', { reason: 'unknown_peer' });
    });
    this.swim.onMemberEvent((e) => this.onMember(e));
  }

  get name(): string {
    return this.config.nodeName;
  }

  get registry(): RegistryDoc {
    return this.sync.registry;
  }

  start(seeds: string[]): void {
    if (this.started) return;
    this.started = true;
    this.sync.start();
    this.swim.start(seeds.filter((s) => s !== this.swim.advertiseAddress));
    for (const m of this.swim.members()) this.admit(m);
  }

  /** More seeds from discovery (DNS re-resolution, hyperswarm): joins any not yet known. */
  addSeeds(seeds: string[]): void {
    const known = new Set(this.swim.allMembers().map((m) => m.address));
    const fresh = seeds.filter((s) => s !== this.swim.advertiseAddress && !known.has(s));
    if (fresh.length > 0) this.swim.join(fresh);
  }

  /** Graceful leave: tell the mesh, then stop after `lingerMs` so the news spreads. */
  leave(lingerMs: number): Promise<void> {
    this.swim.leave();
    return new Promise((resolve) =>
      this.deps.timers.setTimeout(() => {
        this.stop();
        resolve();
      }, lingerMs),
    );
  }

  stop(): void {
    this.swim.shutdown();
    this.sync.stop();
  }

  onMemberEvent(listener: (e: MemberEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  appendRouteOp(op: Op): void {
    this.sync.append(op);
  }

  setLocalLoad(workerId: string, load: WorkerLoad): void {
    this.sync.setLoad(workerId, load);
  }

  /** Mesh-wide load per worker (every node's in-flight and queued work). */
  meshLoad(): Map<string, WorkerLoad> {
    return this.sync.meshLoad();
  }

  members(): MeshMember[] {
    return this.swim.allMembers().map((m) => {
      const meta = decodeMetadata(m.meta);
      return { name: m.name, address: m.address, state: m.state, incarnation: m.incarnation, http: meta?.http, sync: meta?.sync };
    });
  }

  status(): MeshStatus {
    return { node: this.name, members: this.members(), sync: this.sync.stats(), digest: this.digest() };
  }

  digest(): { registry: string; shards: string; members: string } {
    return { ...this.sync.digest(), members: String(this.swim.liveSetDigest) };
  }

  private onMember(e: MemberEvent): void {
    if (e.member.name !== this.name) {
      if (e.type === 'join' || e.type === 'alive' || e.type === 'update') this.admit(e.member);
      else if (e.type === 'dead' || e.type === 'left') this.evict(e.member.name);
    }
    for (const l of this.listeners) l(e);
  }

  private admit(m: Member): void {
    if (m.name === this.name) return;
    const meta = decodeMetadata(m.meta);
    if (!meta) {
      this.log.warn({ peer: m.name }, 'mesh member without valid metadata; not syncing with it');
      return;
    }
    const had = this.peerAddresses.get(m.name);
    this.peerAddresses.set(m.name, meta.sync);
    if (had === undefined) {
      this.log.info({ peer: m.name, sync: meta.sync }, 'mesh peer joined');
      this.sync.peerJoined(m.name);
    }
  }

  private evict(name: string): void {
    if (!this.peerAddresses.delete(name)) return;
    this.log.info({ peer: name }, 'mesh peer left');
    this.sync.peerLeft(name);
    this.deps.syncTransport.disconnect(name);
  }
}

export function createMeshNode<Op>(deps: MeshNodeDeps<Op>, config: MeshNodeConfig): MeshNode<Op> {
  return new MeshNode(deps, config);
}
