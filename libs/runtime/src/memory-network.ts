import type { Clock } from './clock';
import type { PacketHandler, PacketTransport, ReplyCallback, RequestHandler } from './packet-transport';
import type { Rng } from './rng';
import type { Timers } from './timers';

/** Conditions of one directed link. Loss applies to datagrams only; streams are reliable (TCP). */
export interface LinkConditions {
  /** One-way base delay. */
  delayMs: number;
  /** Extra uniform delay in [0, jitterMs) per packet (so packets can reorder). */
  jitterMs: number;
  /** Probability in [0, 1] that a datagram is dropped. */
  loss: number;
}

export const PERFECT_LINK: LinkConditions = { delayMs: 0, jitterMs: 0, loss: 0 };

export interface MemoryNetworkDeps {
  /** Usually one VirtualScheduler as both clock and timers. */
  clock: Clock;
  timers: Timers;
  /** All delay, jitter and loss draws come from here, so a run replays from its seed. */
  rng: Rng;
}

/** Traffic counters, per network and per sending address. */
export interface TrafficStats {
  packetsSent: number;
  bytesSent: number;
  packetsDelivered: number;
  packetsLost: number;
  packetsBlocked: number;
  streamRequests: number;
  streamBytes: number;
}

function emptyStats(): TrafficStats {
  return { packetsSent: 0, bytesSent: 0, packetsDelivered: 0, packetsLost: 0, packetsBlocked: 0, streamRequests: 0, streamBytes: 0 };
}

/**
 * An in-process network for tests and the simulator. Each address holds at most one open
 * transport; sending to a closed or unknown address silently drops (like UDP to a dead host), and
 * a stream request to it fails after the caller's timeout (like a TCP connect that never answers).
 * Partitions block both datagrams and streams between the groups until healed.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly links = new Map<string, LinkConditions>();
  /** address -> partition group id; addresses in different groups cannot talk. */
  private readonly groups = new Map<string, number>();
  private readonly perAddress = new Map<string, TrafficStats>();
  private defaults: LinkConditions;
  readonly stats: TrafficStats = emptyStats();

  constructor(
    private readonly deps: MemoryNetworkDeps,
    defaults: Partial<LinkConditions> = {},
  ) {
    this.defaults = { ...PERFECT_LINK, ...defaults };
  }

  /** Opens a transport at `address`; an address can be reused once its previous transport closed. */
  createTransport(address: string): MemoryTransport {
    if (this.endpoints.has(address)) throw new Error(`address ${address} is already in use`);
    const transport = new MemoryTransport(this, address);
    this.endpoints.set(address, transport);
    return transport;
  }

  setDefaultLink(conditions: Partial<LinkConditions>): void {
    this.defaults = { ...this.defaults, ...conditions };
  }

  /** Overrides the conditions of the directed link from -> to. */
  setLink(from: string, to: string, conditions: Partial<LinkConditions>): void {
    this.links.set(`${from}>${to}`, { ...this.linkConditions(from, to), ...conditions });
  }

  linkConditions(from: string, to: string): LinkConditions {
    if (this.links.size === 0) return this.defaults;
    return this.links.get(`${from}>${to}`) ?? this.defaults;
  }

  /** Splits the network: each listed group can talk only within itself (unlisted addresses form one more group). */
  partition(...groups: string[][]): void {
    this.groups.clear();
    groups.forEach((members, index) => members.forEach((address) => this.groups.set(address, index + 1)));
  }

  heal(): void {
    this.groups.clear();
  }

  canReach(from: string, to: string): boolean {
    if (this.groups.size === 0) return true;
    return (this.groups.get(from) ?? 0) === (this.groups.get(to) ?? 0);
  }

  isOpen(address: string): boolean {
    return this.endpoints.has(address);
  }

  statsFor(address: string): TrafficStats {
    return this.perAddress.get(address) ?? emptyStats();
  }

  /** @internal */
  detach(transport: MemoryTransport): void {
    if (this.endpoints.get(transport.localAddress) === transport) this.endpoints.delete(transport.localAddress);
  }

  /** @internal */
  deliverPacket(from: string, to: string, bytes: Uint8Array): void {
    const own = this.countFor(from);
    this.stats.packetsSent++;
    this.stats.bytesSent += bytes.length;
    own.packetsSent++;
    own.bytesSent += bytes.length;
    if (!this.canReach(from, to)) {
      this.stats.packetsBlocked++;
      return;
    }
    const link = this.linkConditions(from, to);
    if (link.loss > 0 && this.deps.rng.next() < link.loss) {
      this.stats.packetsLost++;
      return;
    }
    const copy = bytes.slice();
    this.deps.timers.setTimeout(() => {
      const target = this.endpoints.get(to);
      // A partition raised while the packet was in flight still stops it.
      if (!target || !this.canReach(from, to)) {
        this.stats.packetsBlocked++;
        return;
      }
      this.stats.packetsDelivered++;
      target.receivePacket(from, copy);
    }, this.delay(link));
  }

  /** @internal */
  deliverRequest(from: string, to: string, bytes: Uint8Array, timeoutMs: number, callback: ReplyCallback): void {
    const own = this.countFor(from);
    this.stats.streamRequests++;
    this.stats.streamBytes += bytes.length;
    own.streamRequests++;
    own.streamBytes += bytes.length;
    let settled = false;
    const settle = (error: Error | undefined, reply?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      this.deps.timers.clearTimeout(timer);
      callback(error, reply);
    };
    const timer = this.deps.timers.setTimeout(() => settle(new Error(`stream request to ${to} timed out`)), timeoutMs);
    const copy = bytes.slice();
    this.deps.timers.setTimeout(() => {
      const target = this.endpoints.get(to);
      if (settled || !target || !this.canReach(from, to) || !this.endpoints.has(from)) return;
      const reply = target.answerRequest(from, copy);
      if (reply === undefined) {
        settle(new Error(`stream to ${to} closed without a reply`));
        return;
      }
      const replyCopy = reply.slice();
      this.stats.streamBytes += replyCopy.length;
      this.countFor(to).streamBytes += replyCopy.length;
      this.deps.timers.setTimeout(() => {
        if (this.endpoints.has(from) && this.canReach(to, from)) settle(undefined, replyCopy);
      }, this.delay(this.linkConditions(to, from)));
    }, this.delay(this.linkConditions(from, to)));
  }

  private delay(link: LinkConditions): number {
    return link.jitterMs > 0 ? link.delayMs + this.deps.rng.next() * link.jitterMs : link.delayMs;
  }

  private countFor(address: string): TrafficStats {
    let stats = this.perAddress.get(address);
    if (!stats) {
      stats = emptyStats();
      this.perAddress.set(address, stats);
    }
    return stats;
  }
}

/** One endpoint of a MemoryNetwork. */
export class MemoryTransport implements PacketTransport {
  private packetHandler: PacketHandler | undefined;
  private requestHandler: RequestHandler | undefined;
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly localAddress: string,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  send(toAddress: string, bytes: Uint8Array): void {
    if (this.closed) return;
    this.network.deliverPacket(this.localAddress, toAddress, bytes);
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  request(toAddress: string, bytes: Uint8Array, timeoutMs: number, callback: ReplyCallback): void {
    if (this.closed) {
      callback(new Error('transport closed'));
      return;
    }
    this.network.deliverRequest(this.localAddress, toAddress, bytes, timeoutMs, callback);
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.network.detach(this);
  }

  /** @internal */
  receivePacket(from: string, bytes: Uint8Array): void {
    if (!this.closed) this.packetHandler?.(from, bytes);
  }

  /** @internal */
  answerRequest(from: string, bytes: Uint8Array): Uint8Array | undefined {
    if (this.closed || !this.requestHandler) return undefined;
    return this.requestHandler(from, bytes);
  }
}
