import { type Logger, type Metrics, noopLogger, noopMetrics, type TimerHandle } from '@drover/runtime';
import { shardVersionsDigest } from './digest';
import { DocChannel } from './docs/doc-channel';
import { formatEpoch } from './docs/epoch';
import { DEFAULT_REGISTRY_DOC_CONFIG, RegistryDoc } from './docs/registry-doc';
import { MIN_FRAME_BYTES } from './limits';
import { LoadTable, type WorkerLoad } from './load/load-table';
import { PeerLink } from './peer-link';
import { type AntiEntropyStats, ShardAntiEntropy } from './shard/anti-entropy';
import { LocalShard } from './shard/local-shard';
import type { ShardVersion } from './shard/shard-codec';
import { ShardReceiver } from './shard/shard-receiver';
import { ShardSender } from './shard/shard-sender';
import { DEFAULT_SYNC_NODE_CONFIG, type SyncNodeConfig, type SyncNodeDeps, type SyncNodeInit } from './sync-node-config';
import { splitIntoFrames } from './wire/chunking';
import { decodeMessageOrReason, type DropReason, encodeMessage } from './wire/envelope';
import type { SyncMessage } from './wire/messages';

export const DROPPED_MESSAGES_METRIC = 'drover_mesh_dropped_messages_total';
export const SYNC_BYTES_METRIC = 'drover_mesh_sync_bytes_total';
export const SNAPSHOTS_SENT_METRIC = 'drover_mesh_snapshots_sent_total';
export const ANTI_ENTROPY_REPAIRS_METRIC = 'drover_mesh_anti_entropy_repairs_total';

export interface PeerSyncStats {
  /** Ops of our shard the peer has not acknowledged. */
  lag: number;
  sentSeq: number;
  ackedSeq: number;
  snapshotsSent: number;
  /** What we hold of the peer's shard. */
  theirShard: ShardVersion | undefined;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  lastContactMs: number | undefined;
  frameCap: number;
}

export interface SyncStats {
  nodeId: string;
  shard: { epoch: number; seq: number; oldestSeq: number; logLength: number; capacity: number };
  /** Every origin's shard version held here, this node's own included. */
  shardVersions: Record<string, ShardVersion>;
  peers: Record<string, PeerSyncStats>;
  registry: { epoch: string; liveEntries: number; encodedBytes: number; structs: number; compactions: number; digest: string };
  load: { version: number; origins: number };
  bytesIn: number;
  bytesOut: number;
  dropped: Record<string, number>;
  antiEntropy: AntiEntropyStats;
}

export interface SyncDigest {
  registry: string;
  shards: string;
}

/**
 * One node's side of mesh state sync: the registry document, this node's routing shard (and the
 * shards of all peers), and the load table. Synchronous and transport-free: frames come in through
 * `onMessage` and leave through `deps.send`; membership comes in through `peerJoined`/`peerLeft`.
 */
export class SyncNode<Op> {
  readonly config: SyncNodeConfig;
  readonly registry: RegistryDoc;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly localShard: LocalShard<Op>;
  private readonly sender: ShardSender<Op>;
  private readonly receiver: ShardReceiver<Op>;
  private readonly antiEntropy: ShardAntiEntropy<Op>;
  private readonly load: LoadTable;
  private readonly docs: DocChannel;
  private readonly links = new Map<string, PeerLink>();
  private readonly dropped = new Map<string, number>();
  private interval: TimerHandle | undefined;
  private earlyFlush: TimerHandle | undefined;
  private nextTransferId = 1;
  private lastAckMs = -Infinity;
  private lastAckRefreshMs = -Infinity;
  private lastLoadSentMs = -Infinity;
  private lastLoadRefreshMs = -Infinity;
  private totalIn = 0;
  private totalOut = 0;

  constructor(
    private readonly deps: SyncNodeDeps<Op>,
    init: SyncNodeInit,
  ) {
    const { limits, registry, antiEntropy, ...rest } = init;
    const base = DEFAULT_SYNC_NODE_CONFIG;
    this.config = {
      ...base,
      ...rest,
      limits: { ...base.limits, ...limits },
      registry: { ...DEFAULT_REGISTRY_DOC_CONFIG, ...registry },
      antiEntropy: { ...base.antiEntropy, ...antiEntropy },
    };
    if (this.config.limits.maxFrameBytes < MIN_FRAME_BYTES) throw new RangeError(`maxFrameBytes must be ≥ ${MIN_FRAME_BYTES}`);
    this.log = deps.log ?? noopLogger;
    this.metrics = deps.metrics ?? noopMetrics;
    const cfg = this.config;
    const send = (peer: string, msg: SyncMessage) => this.sendMessage(peer, msg);
    const epoch = deps.rng.fork('shard-epoch').uint32() || 1;
    this.localShard = new LocalShard<Op>(epoch, cfg.opLogCapacity, cfg.flushAtOps, () => this.scheduleEarlyFlush());
    this.sender = new ShardSender(this.localShard, deps.shard, deps.clock, send, {
      maxOpsPerBatch: cfg.limits.maxOpsPerBatch,
      retransmitAfterMs: cfg.retransmitAfterMs,
      snapshotCooldownMs: cfg.snapshotCooldownMs,
    });
    this.receiver = new ShardReceiver(deps.shard, deps.clock, send, { maxOpsPerBatch: cfg.limits.maxOpsPerBatch, nackIntervalMs: cfg.nackIntervalMs });
    this.antiEntropy = new ShardAntiEntropy(this.localShard, deps.shard, this.receiver, deps.clock, deps.rng.fork('anti-entropy'), (peer, msg) => this.sendMessage(peer, msg), (kind) => this.metrics.inc(ANTI_ENTROPY_REPAIRS_METRIC, { kind }), cfg.antiEntropy);
    this.load = new LoadTable(epoch);
    this.registry = new RegistryDoc({ clock: deps.clock, rng: deps.rng.fork('registry') }, { nodeId: cfg.nodeId, ...cfg.registry });
    this.docs = new DocChannel(this.registry, send, () => this.links.keys(), {
      docSyncIntervalMs: cfg.docSyncIntervalMs,
      compactionCheckIntervalMs: cfg.compactionCheckIntervalMs,
    });
  }

  get nodeId(): string {
    return this.config.nodeId;
  }

  get shardEpoch(): number {
    return this.localShard.epoch;
  }

  get peerIds(): string[] {
    return [...this.links.keys()];
  }

  // ---- the hot path -------------------------------------------------------------------------

  /** Records one op of this node's routing shard (already applied to local state). O(1). */
  append(op: Op): void {
    this.localShard.append(op);
  }

  /** Records this node's in-flight and queued work on a worker. */
  setLoad(workerId: string, load: WorkerLoad): void {
    this.load.setLocal(workerId, load);
  }

  /** Load per worker summed over the whole mesh (this node plus every live peer's last table). */
  meshLoad(): Map<string, WorkerLoad> {
    return this.load.meshLoad();
  }

  loadByOrigin(): Map<string, Map<string, WorkerLoad>> {
    const out = this.load.byOrigin();
    out.set(this.nodeId, this.load.localLoad());
    return out;
  }

  // ---- lifecycle and membership -------------------------------------------------------------

  /** Starts the flush timer; without it, call `tick()` yourself. */
  start(): void {
    if (!this.interval) this.interval = this.deps.timers.setInterval(() => this.tick(), this.config.flushIntervalMs);
  }

  stop(): void {
    this.deps.timers.clearInterval(this.interval);
    this.deps.timers.clearTimeout(this.earlyFlush);
    this.interval = undefined;
    this.earlyFlush = undefined;
  }

  /** A link to `peerId` is up (membership says alive and the transport connected). */
  peerJoined(peerId: string): void {
    if (peerId === this.nodeId || this.links.has(peerId)) return;
    this.links.set(peerId, new PeerLink(peerId, this.config.limits));
    this.sender.addPeer(peerId);
    this.sendMessage(peerId, { type: 'hello', nodeId: this.nodeId, maxFrameBytes: this.config.limits.maxFrameBytes });
    this.docs.linkOpened(peerId);
    this.receiver.sendAck(peerId);
    this.sendMessage(peerId, this.load.message());
    // A healed partition, a rejoin or a restart: compare shards now and once its catch-up landed.
    this.antiEntropy.peerJoined(peerId);
  }

  /** The peer left or was declared dead: stop sending to it and drop its load. */
  peerLeft(peerId: string): void {
    if (!this.links.delete(peerId)) return;
    this.sender.removePeer(peerId);
    this.receiver.forgetPeer(peerId);
    this.antiEntropy.peerLeft(peerId);
    this.load.dropOrigin(peerId);
  }

  // ---- inbound ------------------------------------------------------------------------------

  /** One frame from a peer. Never throws; anything unusable is dropped and counted. */
  onMessage(fromPeer: string, bytes: Uint8Array): void {
    const link = this.links.get(fromPeer);
    if (!link) return this.drop('unknown_peer');
    link.bytesIn += bytes.length;
    link.messagesIn++;
    this.totalIn += bytes.length;
    link.lastContactMs = this.deps.clock.now();
    this.metrics.inc(SYNC_BYTES_METRIC, { direction: 'in' }, bytes.length);
    if (bytes.length > this.config.limits.maxFrameBytes) return this.drop('too_large');
    const decoded = decodeMessageOrReason(bytes, this.config.limits);
    if (!decoded.ok) return this.drop(decoded.reason);
    let msg = decoded.message;
    if (msg.type === 'chunk') {
      const r = link.reassembler.accept(msg, this.deps.clock.now());
      if (r.status === 'pending') return;
      if (r.status === 'dropped') return this.drop(r.reason);
      const inner = decodeMessageOrReason(r.envelope, this.config.limits);
      if (!inner.ok) return this.drop(inner.reason);
      if (inner.message.type === 'chunk') return this.drop('chunk_malformed');
      msg = inner.message;
    }
    try {
      this.dispatch(fromPeer, link, msg);
    } catch (err) {
      // A codec that throws on hostile input must not take the node down.
      this.log.warn({ err: String(err), peer: fromPeer, type: msg.type }, 'sync message handler failed');
      this.drop('codec_rejected');
    }
  }

  private dispatch(from: string, link: PeerLink, msg: SyncMessage): void {
    switch (msg.type) {
      case 'hello':
        if (msg.nodeId !== from) this.log.warn({ peer: from, claimed: msg.nodeId }, 'peer hello names another node');
        link.agreeFrameCap(msg.maxFrameBytes);
        return;
      case 'doc-step1':
      case 'doc-step2':
      case 'doc-update':
        if (this.docs.onMessage(from, msg)) this.drop('malformed');
        return;
      case 'shard-ops': {
        const reason = this.receiver.onOps(from, msg);
        if (reason) this.drop(reason);
        return;
      }
      case 'shard-snapshot': {
        const reason = this.receiver.onSnapshot(from, msg);
        if (reason) this.drop(reason);
        return;
      }
      case 'shard-ack':
        this.sender.onAck(from, msg);
        return;
      case 'load':
        if (!this.load.onRemote(from, msg, this.deps.clock.now())) this.drop('stale');
        return;
      case 'shard-digest': {
        const reason = this.antiEntropy.onDigest(from, msg);
        if (reason) this.drop(reason);
        return;
      }
      case 'chunk':
        return this.drop('chunk_malformed');
    }
  }

  // ---- outbound -----------------------------------------------------------------------------

  /** Periodic work: flush, acks, retransmits, load refresh and expiry, anti-entropy, compaction. */
  tick(): void {
    const now = this.deps.clock.now();
    this.flush();
    this.sender.retransmitStalled();
    if (now - this.lastAckMs >= this.config.ackIntervalMs) {
      const force = now - this.lastAckRefreshMs >= this.config.ackRefreshMs;
      this.lastAckMs = now;
      if (force) this.lastAckRefreshMs = now;
      this.receiver.sendAcks(this.links.keys(), force);
    }
    if (now - this.lastLoadRefreshMs >= this.config.loadRefreshMs) {
      this.lastLoadRefreshMs = now;
      this.broadcastLoad(now);
    }
    this.load.expire(now, this.config.loadTtlMs);
    for (const link of this.links.values()) {
      for (let n = link.reassembler.expire(now); n > 0; n--) this.drop('chunk_timeout');
    }
    this.docs.tick(now, this.isCompactionLeader());
    // After the flush above: every op up to the digest's seq is already on its way.
    this.antiEntropy.tick(this.links.keys());
  }

  /** Sends everything pending now: shard deltas, document updates, a changed load table. */
  flush(): void {
    this.localShard.markFlushed();
    this.sender.flush();
    this.docs.flush();
    const now = this.deps.clock.now();
    if (this.load.isDirty && now - this.lastLoadSentMs >= this.config.loadMinIntervalMs) this.broadcastLoad(now);
  }

  private broadcastLoad(now: number): void {
    this.lastLoadSentMs = now;
    const msg = this.load.message();
    this.load.markSent();
    for (const peer of this.links.keys()) this.sendMessage(peer, msg);
  }

  private scheduleEarlyFlush(): void {
    if (this.earlyFlush) return;
    this.earlyFlush = this.deps.timers.setTimeout(() => {
      this.earlyFlush = undefined;
      this.localShard.markFlushed();
      this.sender.flush();
    }, 0);
  }

  /** The smallest id among this node and its live peers compacts the registry. */
  private isCompactionLeader(): boolean {
    for (const peer of this.links.keys()) if (peer < this.nodeId) return false;
    return true;
  }

  /** Sends one message (split into frames as needed); returns the bytes it took on the wire. */
  private sendMessage(peer: string, msg: SyncMessage): number {
    const link = this.links.get(peer);
    if (!link) return 0;
    if (msg.type === 'shard-snapshot') this.metrics.inc(SNAPSHOTS_SENT_METRIC);
    const envelope = encodeMessage(msg);
    if (envelope.length > this.config.limits.maxMessageBytes) {
      this.log.error({ peer, type: msg.type, bytes: envelope.length }, 'sync message exceeds maxMessageBytes; not sent');
      this.metrics.inc('drover_mesh_oversized_messages_total', { type: msg.type });
      return 0;
    }
    let sent = 0;
    for (const frame of splitIntoFrames(envelope, link.frameCap, this.nextTransferId++ >>> 0)) {
      link.bytesOut += frame.length;
      sent += frame.length;
      link.messagesOut++;
      this.totalOut += frame.length;
      this.metrics.inc(SYNC_BYTES_METRIC, { direction: 'out' }, frame.length);
      try {
        this.deps.send(peer, frame);
      } catch (err) {
        this.log.warn({ err: String(err), peer }, 'sync transport send failed');
      }
    }
    return sent;
  }

  private drop(reason: DropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    this.metrics.inc(DROPPED_MESSAGES_METRIC, { reason });
  }

  // ---- observation --------------------------------------------------------------------------

  /** Every origin's shard version held here, including this node's own. */
  shardVersions(): Map<string, ShardVersion> {
    const versions = this.receiver.versions();
    versions.set(this.nodeId, this.localShard.version);
    return versions;
  }

  digest(): SyncDigest {
    return { registry: this.registry.digest(), shards: shardVersionsDigest(this.shardVersions()) };
  }

  /** Counters for /mesh/status. `measureDoc` re-encodes the registry document to size it. */
  stats(measureDoc = false): SyncStats {
    const peers: Record<string, PeerSyncStats> = {};
    for (const [id, link] of this.links) {
      const s = this.sender.stats(id);
      peers[id] = {
        lag: s?.lag ?? 0,
        sentSeq: s?.sentSeq ?? 0,
        ackedSeq: s?.ackedSeq ?? 0,
        snapshotsSent: s?.snapshotsSent ?? 0,
        theirShard: this.receiver.version(id),
        bytesIn: link.bytesIn,
        bytesOut: link.bytesOut,
        messagesIn: link.messagesIn,
        messagesOut: link.messagesOut,
        lastContactMs: link.lastContactMs,
        frameCap: link.frameCap,
      };
    }
    return {
      nodeId: this.nodeId,
      shard: {
        epoch: this.localShard.epoch,
        seq: this.localShard.seq,
        oldestSeq: this.localShard.oldestSeq,
        logLength: this.localShard.logLength,
        capacity: this.localShard.capacity,
      },
      shardVersions: Object.fromEntries(this.shardVersions()),
      peers,
      registry: {
        epoch: formatEpoch(this.registry.epoch),
        liveEntries: this.registry.liveSize,
        encodedBytes: measureDoc ? this.registry.encodedSize() : this.docs.measured.bytes,
        structs: this.registry.structCount(),
        compactions: this.registry.compactions,
        digest: this.registry.digest(),
      },
      load: { version: this.load.version, origins: this.load.byOrigin().size },
      bytesIn: this.totalIn,
      bytesOut: this.totalOut,
      dropped: Object.fromEntries(this.dropped),
      antiEntropy: this.antiEntropy.stats(),
    };
  }
}
