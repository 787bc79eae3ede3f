import type { Clock } from '@drover/runtime';
import type { DropReason } from '../wire/envelope';
import type { SyncMessage } from '../wire/messages';
import type { ShardAdapter, ShardVersion } from './shard-codec';

export interface ShardReceiverConfig {
  maxOpsPerBatch: number;
  /** Minimum spacing of urgent acks (gap / snapshot requests) to one origin. */
  nackIntervalMs: number;
}

type Ops = Extract<SyncMessage, { type: 'shard-ops' }>;
type Snapshot = Extract<SyncMessage, { type: 'shard-snapshot' }>;
type Ack = Extract<SyncMessage, { type: 'shard-ack' }>;

interface OriginState {
  version: ShardVersion;
  /** What the last ack we sent said (to ack only on change). */
  ackedSeq: number;
  ackedEpoch: number;
  gapSeen: boolean;
  lastNackMs: number;
  /** Anti-entropy asked for a re-snapshot: one at the held seq (same version, other content) is welcome. */
  repairing: boolean;
}

/**
 * Applies other nodes' shards: tracks the version (epoch, seq) held per origin, applies only ops
 * past it, asks for a resend on a gap and for a snapshot on an unknown epoch. Duplicates and
 * reordered batches are harmless: anything at or below the held seq is skipped.
 */
export class ShardReceiver<Op> {
  private readonly origins = new Map<string, OriginState>();

  constructor(
    private readonly adapter: ShardAdapter<Op>,
    private readonly clock: Clock,
    private readonly send: (peer: string, msg: SyncMessage) => void,
    private readonly config: ShardReceiverConfig,
  ) {}

  /** Returns a drop reason when the batch was unusable. */
  onOps(origin: string, msg: Ops): DropReason | undefined {
    const st = this.origins.get(origin);
    if (!st || st.version.epoch !== msg.epoch) {
      this.nack(origin, st, { wantSnapshot: true, gap: false });
      return undefined;
    }
    const last = msg.fromSeq + msg.count - 1;
    if (last <= st.version.seq) return 'stale';
    if (msg.fromSeq > st.version.seq + 1) {
      st.gapSeen = true;
      this.nack(origin, st, { wantSnapshot: false, gap: true });
      return undefined;
    }
    const ops = this.adapter.decodeOps(msg.ops, Math.min(msg.count, this.config.maxOpsPerBatch));
    if (!ops || ops.length !== msg.count) return 'codec_rejected';
    for (let i = st.version.seq + 1 - msg.fromSeq; i < ops.length; i++) this.adapter.applyOp(origin, ops[i]);
    st.version = { epoch: msg.epoch, seq: last };
    st.gapSeen = false;
    return undefined;
  }

  onSnapshot(origin: string, msg: Snapshot): DropReason | undefined {
    let st = this.origins.get(origin);
    if (st && st.version.epoch === msg.epoch && (msg.seq < st.version.seq || (msg.seq === st.version.seq && !st.repairing))) {
      this.sendAck(origin, st);
      return 'stale';
    }
    if (!this.adapter.applySnapshot(origin, msg.snapshot)) return 'codec_rejected';
    if (!st) {
      st = { version: { epoch: msg.epoch, seq: msg.seq }, ackedSeq: -1, ackedEpoch: 0, gapSeen: false, lastNackMs: -Infinity, repairing: false };
      this.origins.set(origin, st);
    }
    st.version = { epoch: msg.epoch, seq: msg.seq };
    st.gapSeen = false;
    st.repairing = false;
    // Ack at once: the sender resumes deltas from here.
    this.sendAck(origin, st);
    return undefined;
  }

  /** The ack that tells `origin` what we hold of its shard (also sent when a link opens). */
  ackFor(origin: string): Ack {
    const st = this.origins.get(origin);
    if (!st) return { type: 'shard-ack', epoch: 0, seq: 0, gap: false, wantSnapshot: true };
    return { type: 'shard-ack', epoch: st.version.epoch, seq: st.version.seq, gap: st.gapSeen, wantSnapshot: false };
  }

  sendAck(origin: string, st = this.origins.get(origin)): void {
    const ack = this.ackFor(origin);
    if (st) {
      st.ackedSeq = ack.seq;
      st.ackedEpoch = ack.epoch;
    }
    this.send(origin, ack);
  }

  /** Acks to the given peers whose held version moved since the last ack (or all, when `force`). */
  sendAcks(peers: Iterable<string>, force: boolean): void {
    for (const peer of peers) {
      const st = this.origins.get(peer);
      if (force || !st || st.ackedSeq !== st.version.seq || st.ackedEpoch !== st.version.epoch || st.gapSeen) this.sendAck(peer, st);
    }
  }

  /**
   * Anti-entropy found what we hold of `origin` wrong (same version, other content, or another
   * epoch): ask for a re-snapshot, and accept one even at the seq we already hold.
   */
  requestSnapshot(origin: string): void {
    const st = this.origins.get(origin);
    if (st) st.repairing = true;
    const base = this.ackFor(origin);
    this.send(origin, { ...base, gap: false, wantSnapshot: true });
  }

  /** Anti-entropy found us stuck behind `origin`: ask it to resend from what we hold (a delta, or a snapshot if its log no longer reaches). */
  requestResend(origin: string): void {
    const st = this.origins.get(origin);
    if (!st) return this.requestSnapshot(origin);
    this.send(origin, { ...this.ackFor(origin), gap: true });
  }

  versions(): Map<string, ShardVersion> {
    const out = new Map<string, ShardVersion>();
    for (const [origin, st] of this.origins) out.set(origin, { ...st.version });
    return out;
  }

  version(origin: string): ShardVersion | undefined {
    const st = this.origins.get(origin);
    return st ? { ...st.version } : undefined;
  }

  private nack(origin: string, st: OriginState | undefined, flags: { wantSnapshot: boolean; gap: boolean }): void {
    const now = this.clock.now();
    if (st) {
      if (now - st.lastNackMs < this.config.nackIntervalMs) return;
      st.lastNackMs = now;
    } else if (now - (this.unknownNackAt.get(origin) ?? -Infinity) < this.config.nackIntervalMs) {
      return;
    } else {
      this.unknownNackAt.set(origin, now);
    }
    const base = this.ackFor(origin);
    this.send(origin, { ...base, gap: flags.gap, wantSnapshot: flags.wantSnapshot || base.wantSnapshot });
  }

  private readonly unknownNackAt = new Map<string, number>();

  /** Forgets the rate-limit state of a peer that left (its shard version is kept for a rejoin). */
  forgetPeer(peer: string): void {
    this.unknownNackAt.delete(peer);
  }
}
