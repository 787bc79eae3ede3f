import { DroverError, noopLogger, noopMetrics, type Logger, type Metrics, type TimerHandle } from '@drover/runtime';
import { Awareness } from './awareness';
import { BroadcastQueue } from './broadcast-queue';
import { deriveTimings, validateConfig, type SwimConfig } from './config';
import { DROPPED_METRIC, type DropReason, type MemberEvent, type MemberEventListener, type SwimDeps } from './delegate';
import { openPacket, SEAL_OVERHEAD, sealPacket, type Keyring } from './keyring';
import { expectedConfirmations, pushPullIntervalMs, retransmitLimit, suspicionTimeoutMs } from './math';
import { isLive, type Member } from './member';
import { MemberList } from './member-list';
import { applyGossip, type SelfView } from './membership';
import { ProbeSchedule } from './probe-schedule';
import { entryToGossip, toEntry } from './push-pull';
import { Suspicion } from './suspicion';
import {
  decodePacket,
  decodePushPull,
  decodeStreamPacket,
  encodeStreamPacket,
  StreamType,
  streamTypeOf,
  encodeFrame,
  encodePacket,
  encodePushPull,
  FRAME_OVERHEAD,
  type GossipMsg,
  type IndirectPingMsg,
  type PingMsg,
  type PushPullMsg,
  type SwimMessage,
} from './wire';

/** Domains of SWIM signatures (a message's signature never verifies as another kind of message). */
const SWIM_CONTEXT = 'drover-swim-v1\0';
const PUSH_PULL_CONTEXT = 'drover-swim-push-pull-v1\0';

/** The node a message speaks for: who must have signed it. */
function originator(msg: SwimMessage, self: string): string {
  switch (msg.type) {
    case 'ping':
    case 'indirect-ping':
      return msg.source;
    case 'alive':
      return msg.name;
    case 'suspect':
    case 'dead':
      return msg.from;
    default:
      return self;
  }
}

interface AckHandler {
  onAck(): void;
  onNack(): void;
}

/**
 * A SWIM + Lifeguard member (the shell around the pure parts). Synchronous: a packet or a timer in
 * gives state changes and packets out. Probes one member per period, asks k others on a missed
 * ack, suspects, lets the suspect refute, declares dead after the (Lifeguard) suspicion timeout,
 * disseminates by piggybacking, and runs push-pull anti-entropy over the stream path.
 */
export class SwimNode {
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly list = new MemberList();
  private readonly awareness: Awareness;
  private readonly broadcasts: BroadcastQueue;
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly suspicionRechecks = new Map<string, TimerHandle[]>();
  private readonly ackHandlers = new Map<number, AckHandler>();
  private readonly probeSchedule: ProbeSchedule;
  private readonly listeners = new Set<MemberEventListener>();
  private readonly address: string;
  private incarnationValue = 0;
  private metadata: Uint8Array;
  private seq = 0;
  private seeds: string[] = [];
  private state: 'new' | 'running' | 'leaving' | 'stopped' = 'new';
  private probeTimer: TimerHandle | undefined;
  private gossipTimer: TimerHandle | undefined;
  private pushPullTimer: TimerHandle | undefined;
  private maintenanceTimer: TimerHandle | undefined;
  /** Gossip ticks fall on a fixed grid (phase + k·interval) but are only scheduled while there is gossip to send. */
  private gossipPhaseMs = 0;
  private readonly strangerSyncs = new Map<string, number>();
  /** Datagrams and the stream path are sealed under separate subkeys of the cluster key. */
  private readonly datagramRing: Keyring | undefined;
  private readonly streamRing: Keyring | undefined;

  constructor(
    private readonly deps: SwimDeps,
    readonly config: SwimConfig,
  ) {
    const problems = validateConfig(config);
    if (problems.length > 0) throw DroverError.invalidRequest(`invalid SWIM config: ${problems.join('; ')}`);
    this.log = deps.log?.child?.({ swim: config.name }) ?? deps.log ?? noopLogger;
    this.metrics = deps.metrics ?? noopMetrics;
    this.address = config.advertiseAddress ?? deps.transport.localAddress;
    if (config.identity && config.identity.name !== config.name) {
      throw DroverError.invalidRequest(`the mesh identity is for '${config.identity.name}', not for this node '${config.name}'`);
    }
    this.datagramRing = config.keyring?.withPurpose('swim-datagram');
    this.streamRing = config.keyring?.withPurpose('swim-stream');
    this.metadata = config.metadata ?? new Uint8Array(0);
    this.awareness = new Awareness(config.awarenessMaxMultiplier);
    this.broadcasts = new BroadcastQueue(() => retransmitLimit(config.retransmitMult, this.list.size), config.maxQueuedBroadcasts);
    this.probeSchedule = new ProbeSchedule(deps.rng.fork('probe-order'));
  }

  get name(): string {
    return this.config.name;
  }

  get advertiseAddress(): string {
    return this.address;
  }

  get incarnation(): number {
    return this.incarnationValue;
  }

  /** Lifeguard local-health score (0 = healthy). */
  get awarenessScore(): number {
    return this.awareness.score;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Order-independent digest of the member table (equal on converged nodes). */
  get digest(): number {
    return this.list.digest;
  }

  /** Order-independent hash of the live member names (equal on nodes that agree who is live). */
  get liveSetDigest(): number {
    return this.list.liveSetDigest;
  }

  /** Members currently suspected by this node. */
  get suspectCount(): number {
    return this.list.suspectCount;
  }

  /** Gossip queued for dissemination. */
  get queuedBroadcasts(): number {
    return this.broadcasts.size;
  }

  /** Starts the protocol and joins through `seeds` (addresses); retries seeds while alone. */
  start(seeds: readonly string[] = []): void {
    if (this.state !== 'new') throw new DroverError('conflict', 'SwimNode.start() called twice');
    this.state = 'running';
    this.seeds = seeds.filter((s) => s !== this.address);
    this.list.set(this.selfRecord('alive'));
    this.deps.transport.onPacket((from, bytes) => this.handlePacket(from, bytes));
    this.deps.transport.onRequest((from, bytes) => this.handleStream(from, bytes));
    const { timers, rng } = this.deps;
    // Random phases, so nodes started together do not probe and gossip in lockstep.
    this.probeTimer = timers.setTimeout(() => this.probeTick(), rng.int(this.config.probeIntervalMs));
    this.gossipPhaseMs = this.deps.clock.now() + rng.int(this.config.gossipIntervalMs);
    this.armGossip();
    this.schedulePushPull(rng.int(this.config.pushPullIntervalMs) + this.config.pushPullIntervalMs / 2);
    this.maintenanceTimer = timers.setInterval(() => this.maintenanceTick(), this.config.reconnectIntervalMs);
    this.join(this.seeds);
  }

  /** Push-pull join with each address (a full-state exchange). */
  join(addresses: readonly string[]): void {
    for (const address of addresses) if (address !== this.address) this.pushPull(address, true);
  }

  /**
   * Graceful leave: announces `left` to every live member at once and through gossip, and stops
   * probing. Keep the node running a few gossip intervals so the news spreads, then shutdown().
   */
  leave(): void {
    if (this.state !== 'running') return;
    this.state = 'leaving';
    this.deps.timers.clearTimeout(this.probeTimer);
    this.deps.timers.clearTimeout(this.pushPullTimer);
    this.list.set(this.selfRecord('left'));
    const frame = this.frame({ type: 'dead', incarnation: this.incarnationValue, name: this.name, from: this.name, left: true });
    this.enqueueBroadcast(frame, this.name);
    // Told to every live member directly (n packets, once), then gossiped as well: a departure
    // should never be mistaken for a failure because an epidemic happened to miss someone.
    for (const target of this.list.liveNames()) {
      if (target !== this.name) this.sendFrames(this.list.get(target)!.address, [frame], false);
    }
  }

  /** Stops every timer and ignores further traffic. The transport belongs to the caller. */
  shutdown(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    const { timers } = this.deps;
    timers.clearTimeout(this.probeTimer);
    timers.clearTimeout(this.gossipTimer);
    timers.clearTimeout(this.pushPullTimer);
    timers.clearInterval(this.maintenanceTimer);
    for (const name of [...this.suspicions.keys()]) this.cancelSuspicion(name);
    this.ackHandlers.clear();
    this.broadcasts.clear();
  }

  /** Live members (alive or suspect), this node included. */
  members(): Member[] {
    const out: Member[] = [];
    for (const name of this.list.liveNames()) out.push(this.list.get(name)!);
    return out;
  }

  /** Every listed member, including recently dead and left ones. */
  allMembers(): Member[] {
    return this.list.listed();
  }

  member(name: string): Member | undefined {
    return this.list.isReaped(name) ? undefined : this.list.get(name);
  }

  get liveCount(): number {
    return this.list.liveCount;
  }

  onMemberEvent(listener: MemberEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces this node's metadata and announces it with a new incarnation. */
  setMetadata(meta: Uint8Array): void {
    if (meta.length > this.config.maxMetadataBytes) {
      throw DroverError.invalidRequest(`metadata is ${meta.length} bytes, the limit is ${this.config.maxMetadataBytes}`);
    }
    this.metadata = meta.slice();
    if (this.state !== 'running') return;
    this.announceSelf(this.incarnationValue + 1);
  }

  // ---- probing ----

  private probeTick(): void {
    this.probeTimer = undefined;
    if (this.state !== 'running') return;
    const target = this.probeSchedule.next(
      () => this.list.liveNames(),
      (name) => name !== this.name && isLive(this.list.get(name)?.state ?? 'dead'),
    );
    if (!target) {
      this.probeTimer = this.deps.timers.setTimeout(() => this.probeTick(), this.config.probeIntervalMs);
      return;
    }
    this.probe(this.list.get(target)!);
  }

  private probe(target: Member): void {
    const { clock, timers } = this.deps;
    const startedMs = clock.now();
    const seq = this.nextSeq();
    const timeoutMs = this.awareness.scale(this.config.probeTimeoutMs);
    const periodMs = this.awareness.scale(this.config.probeIntervalMs);
    let done = false;
    let nacks = 0;
    let expectedNacks = 0;
    let timer: TimerHandle | undefined;
    const finish = (acked: boolean): void => {
      if (done) return;
      done = true;
      this.ackHandlers.delete(seq);
      timers.clearTimeout(timer);
      if (acked) {
        this.awareness.applyDelta(-1);
        this.metrics.inc('drover_swim_probes_total', { result: 'ok' });
      } else {
        // Missing nacks mean our own links are the problem: grow more patient (Lifeguard).
        this.awareness.applyDelta(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
        this.metrics.inc('drover_swim_probes_total', { result: 'failed' });
        this.suspect(target.name);
      }
      if (this.state === 'running') {
        const nextInMs = Math.max(0, startedMs + this.config.probeIntervalMs - clock.now());
        this.probeTimer = timers.setTimeout(() => this.probeTick(), nextInMs);
      }
    };
    this.ackHandlers.set(seq, { onAck: () => finish(true), onNack: () => nacks++ });
    const frames = [this.frame({ type: 'ping', seq, target: target.name, source: this.name, sourceAddress: this.address })];
    // Lifeguard's buddy system: a suspect hears of its suspicion first, from whoever probes it.
    if (target.state === 'suspect') {
      frames.push(this.frame({ type: 'suspect', incarnation: target.incarnation, name: target.name, from: this.name }));
    }
    this.sendFrames(target.address, frames, true);
    timer = timers.setTimeout(() => {
      if (done) return;
      const helpers = this.list.randomLive(this.deps.rng, this.config.indirectChecks, (n) => n === this.name || n === target.name);
      expectedNacks = helpers.length;
      const frame = this.frame({
        type: 'indirect-ping',
        seq,
        target: target.name,
        targetAddress: target.address,
        wantNack: true,
        source: this.name,
        sourceAddress: this.address,
      });
      for (const helper of helpers) this.sendFrames(this.list.get(helper)!.address, [frame], true);
      if (this.config.streamFallbackProbe) this.fallbackProbe(target, periodMs - timeoutMs, () => finish(true));
      timer = timers.setTimeout(() => finish(false), Math.max(0, periodMs - timeoutMs));
    }, timeoutMs);
  }

  /** memberlist's TCP ping: the same ping over the reliable stream path, answered with an ack. */
  private fallbackProbe(target: Member, timeoutMs: number, onAck: () => void): void {
    const seq = this.nextSeq();
    const ping = encodePacket([this.frame({ type: 'ping', seq, target: target.name, source: this.name, sourceAddress: this.address })]);
    this.deps.transport.request(target.address, this.seal(encodeStreamPacket(ping)), Math.max(1, timeoutMs), (err, reply) => {
      if (err || !reply || this.state === 'stopped') return;
      const opened = openPacket(this.streamRing, reply);
      if (!opened.ok) return this.drop(opened.reason);
      const packet = decodeStreamPacket(opened.plaintext, this.config.maxMetadataBytes);
      if (packet?.messages.some((m) => m.type === 'ack' && m.seq === seq && this.authentic(m))) {
        this.metrics.inc('drover_swim_fallback_probe_acks_total');
        onAck();
      }
    });
  }

  /** Answers a fallback probe arriving on the stream path. */
  private answerStreamPing(plaintext: Uint8Array): Uint8Array | undefined {
    const packet = decodeStreamPacket(plaintext, this.config.maxMetadataBytes);
    const ping = packet?.messages[0];
    if (!ping || ping.type !== 'ping') {
      this.drop('malformed');
      return undefined;
    }
    if (!this.authentic(ping)) {
      this.drop('forged_sender');
      return undefined;
    }
    if (ping.target !== '' && ping.target !== this.name) {
      this.drop('wrong_target');
      return undefined;
    }
    return this.seal(encodeStreamPacket(encodePacket([this.frame({ type: 'ack', seq: ping.seq })])));
  }

  private suspect(name: string): void {
    const member = this.list.get(name);
    if (!member || !isLive(member.state)) return;
    this.applyGossipMsg({ type: 'suspect', incarnation: member.incarnation, name, from: this.name });
  }

  private onPing(msg: PingMsg): void {
    if (msg.target !== '' && msg.target !== this.name) {
      this.drop('wrong_target');
      return;
    }
    this.sendFrames(msg.sourceAddress, [this.frame({ type: 'ack', seq: msg.seq })], true);
    // A prober we have never heard of means an epidemic missed us: catch up with it directly.
    if (!this.list.get(msg.source)) this.syncWithStranger(msg.sourceAddress);
  }

  /** Push-pull with an address we learned of out of band, at most once per interval per address. */
  private syncWithStranger(address: string): void {
    const now = this.deps.clock.now();
    const last = this.strangerSyncs.get(address);
    if (last !== undefined && now - last < this.config.probeIntervalMs * 5) return;
    if (this.strangerSyncs.size > 1024) this.strangerSyncs.clear();
    this.strangerSyncs.set(address, now);
    this.pushPull(address, false);
  }

  private onIndirectPing(msg: IndirectPingMsg): void {
    const seq = this.nextSeq();
    let settled = false;
    const timer = this.deps.timers.setTimeout(() => {
      if (settled) return;
      settled = true;
      this.ackHandlers.delete(seq);
      if (msg.wantNack) this.sendFrames(msg.sourceAddress, [this.frame({ type: 'nack', seq: msg.seq })], false);
      // Lifeguard: nack at 80% of the probe timeout, so it reaches the prober before its period
      // ends; a late nack would count as missing and wrongly lower the prober's health.
    }, this.config.probeTimeoutMs * 0.8);
    this.ackHandlers.set(seq, {
      onAck: () => {
        if (settled) return;
        settled = true;
        this.ackHandlers.delete(seq);
        this.deps.timers.clearTimeout(timer);
        this.sendFrames(msg.sourceAddress, [this.frame({ type: 'ack', seq: msg.seq })], false);
      },
      onNack: () => {},
    });
    const ping = this.frame({ type: 'ping', seq, target: msg.target, source: this.name, sourceAddress: this.address });
    this.sendFrames(msg.targetAddress, [ping], true);
  }

  // ---- gossip ----

  private applyGossipMsg(msg: GossipMsg): void {
    const current = this.list.get(msg.name);
    const transition = applyGossip(current, msg, this.selfView(), this.deps.clock.now());
    if (transition.refuteWith !== undefined) {
      if (this.config.plantedBugs?.noRefutation) return;
      if (msg.type !== 'alive') {
        this.awareness.applyDelta(1);
        this.metrics.inc('drover_swim_refutations_total');
      }
      this.announceSelf(transition.refuteWith);
      return;
    }
    if (transition.reassertTo !== undefined) this.reassertTo(transition.reassertTo);
    const next = transition.next;
    if (next) {
      this.list.set(next);
      if (next.state !== 'suspect') this.cancelSuspicion(next.name);
      if (transition.event === 'join') this.probeSchedule.add(next.name);
      // A suspicion restarts when it is new or moved to a newer incarnation.
      if (next.state === 'suspect' && msg.type === 'suspect' && (transition.event === 'suspect' || current?.incarnation !== next.incarnation)) {
        this.startSuspicion(next, msg.from);
      }
    }
    let rebroadcast = transition.rebroadcast === true;
    if (transition.confirmFrom !== undefined) {
      const suspicion = this.suspicions.get(msg.name);
      if (suspicion?.confirm(transition.confirmFrom)) rebroadcast = true;
    }
    if (rebroadcast) this.enqueueBroadcast(this.frame(msg), msg.name);
    if (next && transition.event) this.emit({ type: transition.event, member: next });
  }

  /** Sends our current alive straight to a member still accusing an older incarnation of us. */
  private reassertTo(accuser: string): void {
    const target = this.list.get(accuser);
    if (!target || !isLive(target.state)) return;
    const alive = this.frame({ type: 'alive', incarnation: this.incarnationValue, name: this.name, address: this.address, meta: this.metadata });
    this.sendFrames(target.address, [alive], false);
  }

  private startSuspicion(member: Member, accuser: string): void {
    this.cancelSuspicion(member.name);
    if (accuser === this.name) this.metrics.inc('drover_swim_suspicions_total');
    const n = this.list.size;
    const minMs = suspicionTimeoutMs(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const maxMs = minMs * this.config.suspicionMaxTimeoutMult;
    const k = expectedConfirmations(this.config.suspicionMult, n);
    const incarnation = member.incarnation;
    const suspicion = new Suspicion(this.deps, accuser, k, minMs, maxMs, () => {
      this.cancelSuspicion(member.name);
      const current = this.list.get(member.name);
      if (this.state === 'stopped' || !current || current.state !== 'suspect' || current.incarnation !== incarnation) return;
      this.applyGossipMsg({ type: 'dead', incarnation, name: member.name, from: this.name, left: false });
    });
    this.suspicions.set(member.name, suspicion);
    // Lifeguard's "tell the suspect": ask it again ourselves before any timeout can fire, so a
    // refutation that an epidemic failed to bring us still arrives (it answers stale accusations
    // with its current alive, see reassertTo).
    const recheck = this.frame({ type: 'suspect', incarnation, name: member.name, from: this.name });
    const timers = [0.5, 0.9].map((fraction) =>
      this.deps.timers.setTimeout(() => {
        const current = this.list.get(member.name);
        if (this.state === 'stopped' || current?.state !== 'suspect' || current.incarnation !== incarnation) return;
        this.sendFrames(current.address, [recheck], false);
      }, minMs * fraction),
    );
    this.suspicionRechecks.set(member.name, timers);
  }

  private cancelSuspicion(name: string): void {
    const rechecks = this.suspicionRechecks.get(name);
    if (rechecks) {
      for (const t of rechecks) this.deps.timers.clearTimeout(t);
      this.suspicionRechecks.delete(name);
    }
    const s = this.suspicions.get(name);
    if (!s) return;
    s.cancel();
    this.suspicions.delete(name);
  }

  private announceSelf(incarnation: number): void {
    this.incarnationValue = incarnation;
    this.list.set(this.selfRecord(this.state === 'leaving' ? 'left' : 'alive'));
    const frame = this.frame({ type: 'alive', incarnation, name: this.name, address: this.address, meta: this.metadata });
    this.enqueueBroadcast(frame, this.name);
  }

  /** Schedules the next gossip tick on the grid, unless one is pending or there is nothing to send. */
  private armGossip(): void {
    if (this.gossipTimer !== undefined || this.state === 'stopped' || this.state === 'new') return;
    if (this.broadcasts.size === 0 && !this.deps.delegate?.getBroadcasts) return;
    const interval = this.config.gossipIntervalMs;
    const now = this.deps.clock.now();
    const next = this.gossipPhaseMs + Math.floor((now - this.gossipPhaseMs) / interval + 1) * interval;
    this.gossipTimer = this.deps.timers.setTimeout(() => {
      this.gossipTimer = undefined;
      this.gossipTick();
      this.armGossip();
    }, next - now);
  }

  private enqueueBroadcast(frame: Uint8Array, key: string): void {
    this.broadcasts.enqueue(frame, key);
    this.armGossip();
  }

  private gossipTick(): void {
    if (this.state === 'stopped' || this.state === 'new') return;
    const targets = this.list.randomLive(this.deps.rng, this.config.gossipNodes, (n) => n === this.name);
    this.addRecentlyDeadTarget(targets);
    for (const name of targets) {
      const frames = this.takePiggyback(this.config.maxPacketBytes - SEAL_OVERHEAD - 1);
      if (frames.length === 0) return;
      this.sendFrames(this.list.get(name)!.address, frames, false);
    }
  }

  /** Gossip to the dead: a wrongly declared node learns of it and refutes. */
  private addRecentlyDeadTarget(targets: string[]): void {
    const down = this.list.downNames();
    if (down.size === 0) return;
    const horizon = this.deps.clock.now() - this.config.gossipToTheDeadMs;
    const recent: string[] = [];
    for (const name of down) {
      const m = this.list.get(name)!;
      if (m.state === 'dead' && m.stateChangeMs >= horizon) recent.push(name);
    }
    if (recent.length === 0) return;
    // Chosen with the same odds a live member has.
    if (this.deps.rng.next() * (this.list.liveCount - 1 + recent.length) < recent.length) {
      const pick = this.deps.rng.pick(recent);
      if (targets.length >= this.config.gossipNodes && targets.length > 0) targets[targets.length - 1] = pick;
      else targets.push(pick);
    }
  }

  private takePiggyback(budgetBytes: number): Uint8Array[] {
    const frames = this.broadcasts.size > 0 ? this.broadcasts.take(0, budgetBytes) : [];
    const delegate = this.deps.delegate;
    if (delegate?.getBroadcasts) {
      let used = 0;
      for (const f of frames) used += f.length;
      let left = budgetBytes - used;
      if (left > FRAME_OVERHEAD) {
        for (const payload of delegate.getBroadcasts(left - FRAME_OVERHEAD)) {
          if (payload.length + FRAME_OVERHEAD > left) continue;
          frames.push(this.frame({ type: 'user', payload }));
          left -= payload.length + FRAME_OVERHEAD;
        }
      }
    }
    return frames;
  }

  /** Sends a primary message (or bare gossip), optionally filling the packet with piggybacked gossip. */
  private sendFrames(toAddress: string, frames: Uint8Array[], piggyback: boolean): void {
    if (piggyback) {
      let used = 1 + SEAL_OVERHEAD;
      for (const f of frames) used += f.length;
      const extra = this.takePiggyback(this.config.maxPacketBytes - used);
      for (const f of extra) frames.push(f);
    }
    this.deps.transport.send(toAddress, sealPacket(this.datagramRing, encodePacket(frames)));
  }

  // ---- inbound ----

  private handlePacket(_from: string, bytes: Uint8Array): void {
    try {
      if (this.state === 'stopped' || this.state === 'new') {
        this.drop('not_running');
        return;
      }
      if (bytes.length > this.config.maxPacketBytes * 2 + SEAL_OVERHEAD) {
        this.drop('oversize');
        return;
      }
      const opened = openPacket(this.datagramRing, bytes);
      if (!opened.ok) {
        this.drop(opened.reason);
        return;
      }
      const packet = decodePacket(opened.plaintext, this.config.maxMetadataBytes);
      if (!packet) {
        this.drop('malformed');
        return;
      }
      if (packet.unknownFrames > 0) this.drop('unknown_type', packet.unknownFrames);
      for (const msg of packet.messages) {
        if (this.authentic(msg)) this.dispatch(msg);
        else this.drop('forged_sender');
      }
    } catch (err) {
      this.drop('handler_error');
      this.log.warn({ err: String(err) }, 'swim packet handler failed');
    }
  }

  private dispatch(msg: SwimMessage): void {
    switch (msg.type) {
      case 'ping':
        return this.onPing(msg);
      case 'indirect-ping':
        return this.onIndirectPing(msg);
      case 'ack':
        return this.ackHandlers.get(msg.seq)?.onAck();
      case 'nack':
        return this.ackHandlers.get(msg.seq)?.onNack();
      case 'alive':
      case 'suspect':
      case 'dead':
        return this.applyGossipMsg(msg);
      case 'user':
        return this.deps.delegate?.notifyMsg?.(msg.payload);
    }
  }

  // ---- push-pull (anti-entropy over the stream path) ----

  private schedulePushPull(delayMs: number): void {
    this.pushPullTimer = this.deps.timers.setTimeout(() => {
      if (this.state !== 'running') return;
      const [peer] = this.list.randomLive(this.deps.rng, 1, (n) => n === this.name);
      if (peer) this.pushPull(this.list.get(peer)!.address, false);
      this.schedulePushPull(pushPullIntervalMs(this.config.pushPullIntervalMs, this.list.size));
    }, delayMs);
  }

  private pushPull(address: string, join: boolean): void {
    const request: PushPullMsg = {
      join,
      needState: false,
      digest: this.list.digest,
      entries: join ? this.localEntries() : undefined,
      userState: this.deps.delegate?.localState?.(join),
    };
    this.deps.transport.request(address, this.seal(this.encodePushPull(request)), this.config.streamTimeoutMs, (err, reply) => {
      if (err || !reply || this.state === 'stopped') return;
      const msg = this.openStream(reply);
      if (!msg) return;
      this.mergeRemote(msg, `push-pull:${address}`);
      if (msg.needState) {
        const full: PushPullMsg = { join: false, needState: false, digest: this.list.digest, entries: this.localEntries(), userState: undefined };
        this.deps.transport.request(address, this.seal(this.encodePushPull(full)), this.config.streamTimeoutMs, (err2, reply2) => {
          if (err2 || !reply2 || this.state === 'stopped') return;
          const last = this.openStream(reply2);
          if (last) this.mergeRemote(last, `push-pull:${address}`);
        });
      }
    });
  }

  private handleStream(from: string, bytes: Uint8Array): Uint8Array | undefined {
    try {
      if (this.state === 'stopped' || this.state === 'new') return undefined;
      const opened = openPacket(this.streamRing, bytes);
      if (!opened.ok) {
        this.drop(opened.reason);
        return undefined;
      }
      if (streamTypeOf(opened.plaintext) === StreamType.Packet) return this.answerStreamPing(opened.plaintext);
      const msg = this.decodeStream(opened.plaintext);
      if (!msg) return undefined;
      const digestBefore = this.list.digest;
      this.mergeRemote(msg, `push-pull:${from}`);
      const differs = msg.digest !== this.list.digest;
      const reply: PushPullMsg = {
        join: msg.join,
        needState: !msg.entries && msg.digest !== digestBefore,
        digest: this.list.digest,
        entries: msg.join || differs ? this.localEntries() : undefined,
        userState: this.deps.delegate?.localState?.(msg.join),
      };
      return this.seal(this.encodePushPull(reply));
    } catch (err) {
      this.drop('handler_error');
      this.log.warn({ err: String(err) }, 'swim stream handler failed');
      return undefined;
    }
  }

  private mergeRemote(msg: PushPullMsg, accuser: string): void {
    if (msg.entries) {
      for (const entry of msg.entries) {
        const gossip = entryToGossip(entry, accuser);
        if (this.config.identity) {
          // Alive and leave records travel with their member's own proof; a remote view of
          // suspect or dead is hearsay, which this node takes on as its own suspicion.
          if (gossip.type === 'suspect') {
            gossip.from = this.name;
          } else if (!this.authentic(gossip)) {
            this.drop('forged_sender');
            continue;
          }
        }
        this.applyGossipMsg(gossip);
      }
    }
    if (msg.userState) this.deps.delegate?.mergeRemoteState?.(msg.userState, msg.join);
  }

  private openStream(bytes: Uint8Array): PushPullMsg | undefined {
    const opened = openPacket(this.streamRing, bytes);
    if (!opened.ok) {
      this.drop(opened.reason);
      return undefined;
    }
    return this.decodeStream(opened.plaintext);
  }

  private decodeStream(plaintext: Uint8Array): PushPullMsg | undefined {
    const msg = decodePushPull(plaintext, this.config.maxStreamBytes, this.config.maxMetadataBytes);
    if (!msg) this.drop('malformed');
    else if (this.config.identity && (!msg.signed || this.config.identity.verify(PUSH_PULL_CONTEXT, msg.signed.content, msg.signed.proof) === undefined)) {
      this.drop('forged_sender');
      return undefined;
    }
    return msg;
  }

  private encodePushPull(msg: PushPullMsg): Uint8Array {
    const identity = this.config.identity;
    return encodePushPull(msg, identity ? (content) => identity.prove(PUSH_PULL_CONTEXT, content) : undefined);
  }

  /**
   * Encodes a message. With an identity, a message this node originates gets its proof; relayed
   * gossip keeps the proof of the node that originated it.
   */
  private frame(msg: SwimMessage): Uint8Array {
    const identity = this.config.identity;
    if (!identity || msg.type === 'user' || msg.proof || originator(msg, this.name) !== this.name) return encodeFrame(msg);
    return encodeFrame({ ...msg, proof: identity.prove(SWIM_CONTEXT, encodeFrame(msg)) });
  }

  /** Without identities, everything that opened is authentic; with them, only what its originator proved. */
  private authentic(msg: SwimMessage): boolean {
    const identity = this.config.identity;
    if (!identity || msg.type === 'user') return true;
    const signer = identity.verify(SWIM_CONTEXT, encodeFrame({ ...msg, proof: undefined }), msg.proof);
    if (signer === undefined) return false;
    // Acks and nacks name nobody; any member's proof will do.
    return msg.type === 'ack' || msg.type === 'nack' || signer === originator(msg, signer);
  }

  private localEntries() {
    return Array.from(this.list.all(), toEntry);
  }

  // ---- housekeeping ----

  /** Reaps long-dead members, expires tombstones, and retries a dead member or the seeds (partition healing). */
  private maintenanceTick(): void {
    if (this.state !== 'running') return;
    const now = this.deps.clock.now();
    for (const name of [...this.list.downNames()]) {
      const m = this.list.get(name)!;
      if (now - m.stateChangeMs > this.config.gossipToTheDeadMs) this.list.reap(name);
    }
    for (const name of [...this.list.tombstoneNames()]) {
      if (now - this.list.get(name)!.stateChangeMs > this.config.tombstoneTtlMs) this.list.forget(name);
    }
    const reconnectable: string[] = [];
    for (const name of this.list.downNames()) if (this.list.get(name)!.state === 'dead') reconnectable.push(name);
    for (const name of this.list.tombstoneNames()) if (this.list.get(name)!.state === 'dead') reconnectable.push(name);
    if (reconnectable.length > 0) this.pushPull(this.list.get(this.deps.rng.pick(reconnectable))!.address, false);
    if (this.list.liveCount <= 1 && this.seeds.length > 0) this.pushPull(this.deps.rng.pick(this.seeds), true);
  }

  // ---- helpers ----

  private selfView(): SelfView {
    return { name: this.name, incarnation: this.incarnationValue, leaving: this.state === 'leaving' };
  }

  private selfRecord(state: 'alive' | 'left'): Member {
    const record: Member = { name: this.name, address: this.address, meta: this.metadata, incarnation: this.incarnationValue, state, stateChangeMs: this.deps.clock.now() };
    const identity = this.config.identity;
    if (!identity) return record;
    // Our own record carries our proof, so push-pull can hand it on like any member's.
    const claim: SwimMessage =
      state === 'alive'
        ? { type: 'alive', incarnation: record.incarnation, name: this.name, address: this.address, meta: this.metadata }
        : { type: 'dead', incarnation: record.incarnation, name: this.name, from: this.name, left: true };
    return { ...record, proof: identity.prove(SWIM_CONTEXT, encodeFrame(claim)) };
  }

  /** Seals a stream-path message (push-pull, the fallback probe and its ack). */
  private seal(plaintext: Uint8Array): Uint8Array {
    return sealPacket(this.streamRing, plaintext);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private drop(reason: DropReason, count = 1): void {
    this.metrics.inc(DROPPED_METRIC, { reason }, count);
  }

  private emit(event: MemberEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.warn({ err: String(err), event: event.type }, 'member event listener failed');
      }
    }
  }

  /** The timings the formulas give for the current cluster size. */
  derivedTimings() {
    return deriveTimings(this.config, this.list.size);
  }
}
