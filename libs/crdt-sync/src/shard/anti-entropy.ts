import type { Clock, Rng } from '@drover/runtime';
import type { DropReason } from '../wire/envelope';
import type { SyncMessage } from '../wire/messages';
import type { LocalShard } from './local-shard';
import type { ShardAdapter } from './shard-codec';
import type { ShardReceiver } from './shard-receiver';

export interface AntiEntropyConfig {
  /** Each node sends every peer its own shard's digest about this often (±25% jitter). */
  intervalMs: number;
  /** ...and once more this long after a peer (re)joins: a healed partition, a rejoin, a restart. */
  afterJoinMs: number;
  /** Same version, other content this many rounds in a row → re-snapshot (one round may be an op still waiting for its base). */
  mismatchesBeforeRepair: number;
  /** Behind (or on another epoch) with no progress for this many rounds in a row → ask for a resend (a snapshot). */
  stuckRoundsBeforeResend: number;
  /** Digests from one peer closer together than this are dropped (`rate_limited`): each may cost a tree hash. */
  minDigestGapMs: number;
}

export const DEFAULT_ANTI_ENTROPY_CONFIG: AntiEntropyConfig = {
  intervalMs: 5000,
  afterJoinMs: 1500,
  mismatchesBeforeRepair: 2,
  stuckRoundsBeforeResend: 2,
  minDigestGapMs: 200,
};

type Digest = Extract<SyncMessage, { type: 'shard-digest' }>;

/** What we last learned comparing our replica of one origin with that origin's digest. */
interface OriginCheck {
  lastDigestMs: number;
  /** What we held ("epoch:seq", or "none") at the previous digest that found us behind or on another epoch ('' when we were not). */
  behindAt: string;
  behindRounds: number;
  mismatches: number;
}

export interface AntiEntropyStats {
  rounds: number;
  digestsSent: number;
  digestsReceived: number;
  /** Envelope bytes of the digests sent (the steady-state cost of anti-entropy). */
  bytesOut: number;
  matches: number;
  mismatches: number;
  snapshotRequests: number;
  resendRequests: number;
}

/**
 * Anti-entropy for the routing shards. Deltas repair only what their sender still knows to send;
 * a replica can still end up wrong with the right version (a compact op whose base prefix lived
 * only in a shard that crashed before it reached us parks forever). So each node periodically, and
 * after a peer joins, tells every peer the version and content digest of its own shard; a peer
 * holding the same version with another digest pulls a re-snapshot, one stuck behind pulls a
 * resend, one on another epoch a snapshot. Steady-state cost: one small digest per peer per round,
 * and one tree hash per shard that changed since the last round.
 */
export class ShardAntiEntropy<Op> {
  private readonly checks = new Map<string, OriginCheck>();
  /** peer → when to send it an extra digest (after it joined). */
  private readonly extra = new Map<string, number>();
  private nextRoundMs: number;
  private readonly counters: AntiEntropyStats = { rounds: 0, digestsSent: 0, digestsReceived: 0, bytesOut: 0, matches: 0, mismatches: 0, snapshotRequests: 0, resendRequests: 0 };

  constructor(
    private readonly shard: LocalShard<Op>,
    private readonly adapter: ShardAdapter<Op>,
    private readonly receiver: ShardReceiver<Op>,
    private readonly clock: Clock,
    private readonly rng: Rng,
    /** Sends one message; returns the envelope bytes it took. */
    private readonly send: (peer: string, msg: SyncMessage) => number,
    /** Counts a repair asked for (the node's metrics). */
    private readonly onRepair: (kind: 'snapshot' | 'resend') => void,
    private readonly config: AntiEntropyConfig,
  ) {
    this.nextRoundMs = clock.now() + this.jittered();
  }

  /** A peer's link opened: tell it our digest now and again soon, when its catch-up has landed. */
  peerJoined(peer: string): void {
    this.sendDigest(peer, this.ownDigest());
    this.extra.set(peer, this.clock.now() + this.config.afterJoinMs);
  }

  peerLeft(peer: string): void {
    this.extra.delete(peer);
    this.checks.delete(peer);
  }

  /** Called on the sync tick, after the flush (so the ops up to the digest's seq went out first). */
  tick(peers: Iterable<string>): void {
    const now = this.clock.now();
    let digest: Digest | undefined;
    if (now >= this.nextRoundMs) {
      this.nextRoundMs = now + this.jittered();
      this.counters.rounds++;
      digest = this.ownDigest();
      for (const peer of peers) this.sendDigest(peer, digest);
      this.extra.clear();
      return;
    }
    for (const [peer, at] of this.extra) {
      if (now < at) continue;
      this.extra.delete(peer);
      digest ??= this.ownDigest();
      this.sendDigest(peer, digest);
    }
  }

  /** A peer's digest of its own shard: compare with what we hold of it and repair. */
  onDigest(origin: string, msg: Digest): DropReason | undefined {
    const now = this.clock.now();
    let check = this.checks.get(origin);
    if (check && now - check.lastDigestMs < this.config.minDigestGapMs) return 'rate_limited';
    if (!check) {
      check = { lastDigestMs: now, behindAt: '', behindRounds: 0, mismatches: 0 };
      this.checks.set(origin, check);
    }
    check.lastDigestMs = now;
    this.counters.digestsReceived++;
    const held = this.receiver.version(origin);
    if (held && held.epoch === msg.epoch && held.seq > msg.seq) return undefined; // older than what we hold
    if (!held || held.epoch !== msg.epoch || held.seq < msg.seq) {
      // Usually the catch-up (a snapshot asked for when the link opened, or ops) is on its way;
      // in the same place round after round we are stuck: another epoch (or nothing) needs a
      // snapshot, a quiet origin sends none unasked; behind in the same epoch, a resend.
      check.mismatches = 0;
      const at = held ? `${held.epoch}:${held.seq}` : 'none';
      check.behindRounds = check.behindAt === at ? check.behindRounds + 1 : 1;
      check.behindAt = at;
      if (check.behindRounds >= this.config.stuckRoundsBeforeResend) {
        check.behindRounds = 0;
        check.behindAt = '';
        if (held && held.epoch === msg.epoch) {
          this.counters.resendRequests++;
          this.onRepair('resend');
          this.receiver.requestResend(origin);
        } else {
          this.requestSnapshot(origin);
        }
      }
      return undefined;
    }
    check.behindAt = '';
    check.behindRounds = 0;
    const ours = this.adapter.contentDigest?.(origin) ?? '';
    if (msg.digest === '' || ours === '' || ours === msg.digest) {
      this.counters.matches++;
      check.mismatches = 0;
      return undefined;
    }
    this.counters.mismatches++;
    if (++check.mismatches >= this.config.mismatchesBeforeRepair) {
      check.mismatches = 0;
      this.requestSnapshot(origin);
    }
    return undefined;
  }

  stats(): AntiEntropyStats {
    return { ...this.counters };
  }

  private requestSnapshot(origin: string): void {
    this.counters.snapshotRequests++;
    this.onRepair('snapshot');
    this.receiver.requestSnapshot(origin);
  }

  private ownDigest(): Digest {
    return { type: 'shard-digest', epoch: this.shard.epoch, seq: this.shard.seq, digest: this.adapter.contentDigest?.() ?? '' };
  }

  private sendDigest(peer: string, msg: Digest): void {
    this.counters.digestsSent++;
    this.counters.bytesOut += this.send(peer, msg);
  }

  private jittered(): number {
    return this.config.intervalMs * this.rng.range(0.75, 1.25);
  }
}
