import type { Clock } from '@drover/runtime';
import type { SyncMessage } from '../wire/messages';
import type { LocalShard } from './local-shard';
import type { ShardAdapter } from './shard-codec';

export interface ShardSenderConfig {
  maxOpsPerBatch: number;
  /** Sent ops not acknowledged for this long are sent again (go-back-N from the last ack). */
  retransmitAfterMs: number;
  /** At most one snapshot per peer per this interval, whatever the peer keeps asking. */
  snapshotCooldownMs: number;
}

type Ack = Extract<SyncMessage, { type: 'shard-ack' }>;

interface PeerSendState {
  /** Whether the peer told us what it holds (until then we do not know where to start). */
  known: boolean;
  sentSeq: number;
  ackedSeq: number;
  unackedSinceMs: number | undefined;
  lastSnapshotMs: number;
  snapshotsSent: number;
}

export interface PeerSendStats {
  sentSeq: number;
  ackedSeq: number;
  /** Ops of this node's shard the peer has not acknowledged. */
  lag: number;
  snapshotsSent: number;
}

/**
 * Streams this node's shard to each peer: deltas from where the peer's last ack says it is,
 * batched and encoded once per range per flush (all peers usually need the same range), or a
 * snapshot when the peer is on another epoch or behind the log.
 */
export class ShardSender<Op> {
  private readonly peers = new Map<string, PeerSendState>();
  private batchCache = new Map<string, Uint8Array>();
  private snapshotCache: { seq: number; bytes: Uint8Array } | undefined;

  constructor(
    private readonly shard: LocalShard<Op>,
    private readonly adapter: ShardAdapter<Op>,
    private readonly clock: Clock,
    private readonly send: (peer: string, msg: SyncMessage) => void,
    private readonly config: ShardSenderConfig,
  ) {}

  addPeer(peer: string): void {
    if (!this.peers.has(peer)) {
      this.peers.set(peer, { known: false, sentSeq: 0, ackedSeq: 0, unackedSinceMs: undefined, lastSnapshotMs: -Infinity, snapshotsSent: 0 });
    }
  }

  removePeer(peer: string): void {
    this.peers.delete(peer);
  }

  onAck(peer: string, ack: Ack): void {
    const st = this.peers.get(peer);
    if (!st) return;
    const sameEpoch = ack.epoch === this.shard.epoch;
    if (!sameEpoch || ack.wantSnapshot || !this.shard.canResumeAfter(ack.seq)) {
      // A peer claiming more than we ever wrote in this epoch is confused too: resync it whole.
      this.sendSnapshot(peer, st);
      return;
    }
    const now = this.clock.now();
    if (!st.known) {
      st.known = true;
      st.sentSeq = ack.seq;
      st.ackedSeq = ack.seq;
    }
    if (ack.seq > st.ackedSeq) {
      st.ackedSeq = ack.seq;
      st.unackedSinceMs = st.ackedSeq < st.sentSeq ? now : undefined;
    }
    if (ack.seq > st.sentSeq) st.sentSeq = ack.seq;
    if (ack.gap && ack.seq < st.sentSeq) {
      st.sentSeq = ack.seq;
      st.unackedSinceMs = undefined;
    }
    this.sendBacklog(peer, st);
  }

  /** Sends every peer what it lacks. Called on the flush timer or when the backlog is large. */
  flush(): void {
    this.batchCache = new Map();
    for (const [peer, st] of this.peers) if (st.known) this.sendBacklog(peer, st);
    this.batchCache.clear();
    // Snapshots can be megabytes: share one among the peers of one flush, then let it go.
    this.snapshotCache = undefined;
  }

  /** Go-back-N for peers whose acks stopped advancing (lost batches). */
  retransmitStalled(): void {
    const now = this.clock.now();
    for (const [peer, st] of this.peers) {
      if (!st.known || st.unackedSinceMs === undefined) continue;
      if (now - st.unackedSinceMs < this.config.retransmitAfterMs) continue;
      st.sentSeq = st.ackedSeq;
      st.unackedSinceMs = undefined;
      this.sendBacklog(peer, st);
    }
  }

  stats(peer: string): PeerSendStats | undefined {
    const st = this.peers.get(peer);
    if (!st) return undefined;
    return { sentSeq: st.sentSeq, ackedSeq: st.ackedSeq, lag: this.shard.seq - st.ackedSeq, snapshotsSent: st.snapshotsSent };
  }

  private sendBacklog(peer: string, st: PeerSendState): void {
    while (st.sentSeq < this.shard.seq) {
      if (!this.shard.canResumeAfter(st.sentSeq)) {
        this.sendSnapshot(peer, st);
        return;
      }
      const from = st.sentSeq + 1;
      const to = Math.min(this.shard.seq, from + this.config.maxOpsPerBatch - 1);
      const key = `${from}:${to}`;
      let ops = this.batchCache.get(key);
      if (!ops) {
        ops = this.adapter.encodeOps(this.shard.ops(from, to));
        this.batchCache.set(key, ops);
      }
      if (st.unackedSinceMs === undefined) st.unackedSinceMs = this.clock.now();
      this.send(peer, { type: 'shard-ops', epoch: this.shard.epoch, fromSeq: from, count: to - from + 1, ops });
      st.sentSeq = to;
    }
  }

  private sendSnapshot(peer: string, st: PeerSendState): void {
    const now = this.clock.now();
    if (now - st.lastSnapshotMs < this.config.snapshotCooldownMs) return;
    const seq = this.shard.seq;
    if (this.snapshotCache?.seq !== seq) this.snapshotCache = { seq, bytes: this.adapter.encodeSnapshot() };
    st.known = true;
    st.lastSnapshotMs = now;
    st.snapshotsSent++;
    st.sentSeq = seq;
    st.unackedSinceMs = st.ackedSeq < seq ? now : undefined;
    this.send(peer, { type: 'shard-snapshot', epoch: this.shard.epoch, seq, snapshot: this.snapshotCache.bytes });
  }
}
