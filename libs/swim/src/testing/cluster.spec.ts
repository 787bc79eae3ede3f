import { describe, expect, it } from 'vitest';
import { CountingMetrics } from '@drover/runtime';
import { Keyring, openPacket, sealPacket } from '../keyring';
import { decodePacket, encodeFrame, encodePacket, type SwimMessage } from '../wire';
import type { MemberEvent } from '../delegate';
import { SwimCluster } from './cluster';

// SWIM_SEEDS=200 npx vitest run libs/swim soaks the seeded scenarios over more seeds.
const SEEDS = Array.from({ length: Number(process.env.SWIM_SEEDS ?? 12) }, (_, i) => i + 1);

/** Records dead events about nodes that were running when the event fired (false positives). */
function watchFalseDeaths(): { onEvent: (observer: string, e: MemberEvent) => void; count: () => number; attach: (c: SwimCluster) => void } {
  let cluster: SwimCluster | undefined;
  let falseDeaths = 0;
  return {
    attach: (c) => (cluster = c),
    onEvent: (_observer, e) => {
      if (e.type === 'dead' && cluster?.nodes.get(e.member.name)?.running) falseDeaths++;
    },
    count: () => falseDeaths,
  };
}

describe('SWIM cluster in virtual time', () => {
  it.each(SEEDS)('joins converge (seed %i)', (seed) => {
    const c = SwimCluster.create({ seed, size: 12 });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    expect(c.convergedExactly(), c.replay).toBe(true);
  });

  it.each(SEEDS)('a crashed node is detected and declared dead by all (seed %i)', (seed) => {
    const c = SwimCluster.create({ seed, size: 10 });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    c.crash('node-4');
    const start = c.scheduler.now();
    expect(c.runUntil(() => c.countObservers('node-4', 'suspect') + c.countObservers('node-4', 'dead') > 0, 15_000), c.replay).toBe(true);
    expect(c.runUntil(() => c.countObservers('node-4', 'dead') === 9, 40_000), c.replay).toBe(true);
    // Bound: a few periods to detect + the maximum suspicion timeout (24 s at n=10) + dissemination.
    expect(c.scheduler.now() - start, c.replay).toBeLessThan(35_000);
    expect(c.runningNodes().every((n) => n.node.liveCount === 9), c.replay).toBe(true);
    // Probing a dead member is not the prober's fault: helpers' nacks arrive in time (Lifeguard).
    expect(Math.max(...c.runningNodes().map((n) => n.node.awarenessScore)), c.replay).toBe(0);
  });

  it.each(SEEDS)('a falsely suspected live node refutes with a higher incarnation (seed %i)', (seed) => {
    const falseDeaths = watchFalseDeaths();
    const c = SwimCluster.create({ seed, size: 8, onEvent: falseDeaths.onEvent });
    falseDeaths.attach(c);
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const others = c.runningNodes().map((n) => n.name).filter((n) => n !== 'node-2');
    c.partition(['node-2'], others);
    expect(c.runUntil(() => c.countObservers('node-2', 'suspect') > 0, 15_000), c.replay).toBe(true);
    c.heal();
    expect(c.runUntil(() => c.converged(), 30_000), c.replay).toBe(true);
    expect(c.get('node-2').node.incarnation, c.replay).toBeGreaterThan(0);
    expect(falseDeaths.count(), c.replay).toBe(0);
  });

  it.each(SEEDS)('a restarted node rejoins with a higher incarnation (seed %i)', (seed) => {
    const c = SwimCluster.create({ seed, size: 8 });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    c.crash('node-5');
    expect(c.runUntil(() => c.countObservers('node-5', 'dead') === 7, 60_000), c.replay).toBe(true);
    const deadIncarnation = c.get('node-0').node.member('node-5')!.incarnation;
    c.restart('node-5');
    expect(c.runUntil(() => c.converged(), 30_000), c.replay).toBe(true);
    expect(c.get('node-5').node.incarnation, c.replay).toBeGreaterThan(deadIncarnation);
    expect(c.get('node-0').node.member('node-5')!.state).toBe('alive');
  });

  it.each(SEEDS.slice(0, 6))('a graceful leave is seen as left, not dead (seed %i)', (seed) => {
    const events: string[] = [];
    const c = SwimCluster.create({ seed, size: 8, onEvent: (_o, e) => e.member.name === 'node-3' && events.push(e.type) });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    events.length = 0;
    c.leave('node-3');
    expect(c.runUntil(() => c.countObservers('node-3', 'left') === 7, 3_000), c.replay).toBe(true);
    c.advance(60_000);
    expect(events.filter((e) => e !== 'left'), c.replay).toEqual([]);
    expect(c.converged(), c.replay).toBe(true);
  });

  it.each(SEEDS.slice(0, 8))('a partition then heal reconverges (seed %i)', (seed) => {
    const c = SwimCluster.create({ seed, size: 10 });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const names = c.runningNodes().map((n) => n.name);
    const left = names.slice(0, 5);
    const right = names.slice(5);
    c.partition(left, right);
    // Each side declares the other dead...
    expect(c.runUntil(() => right.every((r) => c.countObservers(r, 'dead') >= 5), 90_000), c.replay).toBe(true);
    c.heal();
    // ...and after the heal, reconnect push-pulls and refutations bring everyone back.
    expect(c.runUntil(() => c.converged(), 90_000), c.replay).toBe(true);
  });

  it.each(SEEDS.slice(0, 5))('10 percent packet loss with Lifeguard gives no false positives (seed %i)', (seed) => {
    const falseDeaths = watchFalseDeaths();
    const c = SwimCluster.create({ seed, size: 24, link: { delayMs: 1, jitterMs: 4, loss: 0.1 }, onEvent: falseDeaths.onEvent });
    falseDeaths.attach(c);
    expect(c.runUntil(() => c.converged(), 30_000), c.replay).toBe(true);
    c.advance(10 * 60_000);
    expect(falseDeaths.count(), c.replay).toBe(0);
  });

  // Lifeguard without the stream fallback: a lost datagram can raise a suspicion, and only refutation
  // (buddy system, re-telling the suspect, dynamic timeouts, local health) keeps it from becoming a
  // death. The suspect marks show the path is exercised: the assertion is that none became a death.
  it.each(SEEDS.slice(0, 5))('10 percent packet loss without the stream fallback probe: Lifeguard alone gives no false positives (seed %i)', (seed) => {
    const falseDeaths = watchFalseDeaths();
    let suspicions = 0;
    const c = SwimCluster.create({
      seed,
      size: 24,
      config: { streamFallbackProbe: false },
      link: { delayMs: 1, jitterMs: 4, loss: 0.1 },
      onEvent: (o, e) => {
        falseDeaths.onEvent(o, e);
        if (e.type === 'suspect') suspicions++;
      },
    });
    falseDeaths.attach(c);
    expect(c.runUntil(() => c.converged(), 30_000), c.replay).toBe(true);
    suspicions = 0;
    c.advance(10 * 60_000);
    expect(falseDeaths.count(), `${c.replay} streamFallbackProbe=false: ${falseDeaths.count()} false deaths from ${suspicions} suspect marks`).toBe(0);
    expect(suspicions, `${c.replay}: the loss should raise suspicions for Lifeguard to refute`).toBeGreaterThan(0);
  });

  /**
   * Lifeguard's buddy system, alone: node-0 suspects node-1, and every packet from node-0 to node-1
   * is cut down to its ping/ack frames (no piggybacked gossip, no re-tell, no push-pull) plus,
   * when `buddy`, the suspect frame a probe of a suspect carries. node-1 can only hear of its
   * suspicion from the probe itself.
   */
  function buddyRun(seed: number, buddy: boolean) {
    const c = SwimCluster.create({ seed: `buddy-${seed}`, size: 2, config: { streamFallbackProbe: false, pushPullIntervalMs: 3_600_000 } });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const prober = c.get('node-0');
    const suspect = c.get('node-1');
    const delivered: SwimMessage[][] = [];
    const send = prober.transport.send.bind(prober.transport);
    prober.transport.send = (to, bytes) => {
      if (to !== suspect.address) return send(to, bytes);
      const opened = openPacket(undefined, bytes);
      const messages = opened.ok ? (decodePacket(opened.plaintext)?.messages ?? []) : [];
      const kept = messages.filter((m, i) => m.type === 'ping' || m.type === 'ack' || m.type === 'nack' || (buddy && i === 1 && messages[0].type === 'ping' && m.type === 'suspect' && m.name === suspect.name));
      if (kept.length === 0) return;
      delivered.push(kept);
      send(to, sealPacket(undefined, encodePacket(kept.map(encodeFrame))));
    };
    prober.transport.request = (_to, _bytes, _timeoutMs, callback) => callback(new Error('cut by the test'), undefined);
    const incarnation = suspect.node.incarnation;
    // node-0's own accusation (as after a failed probe), injected so node-1 misses none of its own traffic.
    const accusation = encodePacket([encodeFrame({ type: 'suspect', incarnation, name: suspect.name, from: prober.name })]);
    c.network.createTransport('9.9.9.9:1').send(prober.address, sealPacket(undefined, accusation));
    expect(c.runUntil(() => prober.node.member(suspect.name)?.state === 'suspect', 1_000, 1), c.replay).toBe(true);
    return { c, prober, suspect, incarnation, delivered, suspectedAt: c.scheduler.now() };
  }

  it.each(SEEDS.slice(0, 6))("Lifeguard buddy system: a probe of a suspect tells it, and it refutes within one probe period (seed %i)", (seed) => {
    const { c, prober, suspect, incarnation, delivered, suspectedAt } = buddyRun(seed, true);
    const period = prober.node.config.probeIntervalMs;
    expect(c.runUntil(() => suspect.node.incarnation > incarnation, 2 * period, 1), c.replay).toBe(true);
    const refutedAt = c.scheduler.now();
    // The probe that told it: a ping to node-1 followed by the suspect frame about node-1.
    expect(delivered.some((m) => m[0].type === 'ping' && m[1]?.type === 'suspect'), c.replay).toBe(true);
    expect(refutedAt - suspectedAt, c.replay).toBeLessThanOrEqual(period + 20);
    expect(c.runUntil(() => prober.node.member(suspect.name)?.state === 'alive', 200, 1), c.replay).toBe(true);
    expect(prober.node.member(suspect.name)!.incarnation, c.replay).toBeGreaterThan(incarnation);
    // Refuted well inside the suspicion timeout; nothing is declared dead afterwards.
    c.advance(30_000);
    expect(prober.node.member(suspect.name)!.state, c.replay).toBe('alive');
  });

  it.each(SEEDS.slice(0, 3))('control: without the buddy frame, the same cut-down traffic lets the suspicion time out (seed %i)', (seed) => {
    const { c, prober, suspect, incarnation } = buddyRun(seed, false);
    expect(c.runUntil(() => prober.node.member(suspect.name)?.state === 'dead', 30_000), c.replay).toBe(true);
    expect(suspect.node.incarnation, c.replay).toBe(incarnation);
  });

  it('metadata updates reach every member as an update event', () => {
    const updates = new Set<string>();
    const c = SwimCluster.create({ seed: 'meta', size: 8, onEvent: (o, e) => e.type === 'update' && e.member.name === 'node-1' && updates.add(o) });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    c.get('node-1').node.setMetadata(new TextEncoder().encode('http=10.0.0.1:8080'));
    expect(c.runUntil(() => updates.size === 7, 5_000), c.replay).toBe(true);
    expect(new TextDecoder().decode(c.get('node-6').node.member('node-1')!.meta)).toBe('http=10.0.0.1:8080');
    expect(() => c.get('node-1').node.setMetadata(new Uint8Array(10_000))).toThrow(/limit/);
  });

  it('delegate broadcasts reach every member and push-pull carries delegate state', () => {
    const received = new Map<string, string[]>();
    const merged = new Map<string, string[]>();
    const outbox = new Map<string, Uint8Array[]>();
    const c = SwimCluster.create({
      seed: 'delegate',
      size: 6,
      delegateFor: (name) => ({
        getBroadcasts: () => outbox.get(name)?.splice(0) ?? [],
        notifyMsg: (p) => received.set(name, [...(received.get(name) ?? []), new TextDecoder().decode(p)]),
        localState: () => new TextEncoder().encode(`state-of-${name}`),
        mergeRemoteState: (s) => merged.set(name, [...(merged.get(name) ?? []), new TextDecoder().decode(s)]),
      }),
    });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    expect(merged.get('node-3')).toContain('state-of-node-0');
    expect(merged.get('node-0')).toContain('state-of-node-3');
    // A tiny delegate that relays what it hears once (the sync layer does its own dissemination).
    outbox.set('node-2', [new TextEncoder().encode('hello')]);
    c.advance(300);
    expect([...received.values()].flat()).toContain('hello');
  });

  it('a node without the cluster key cannot join, and its packets are counted as dropped', () => {
    const metrics = new CountingMetrics();
    const keyring = new Keyring([new Uint8Array(32).fill(7)]);
    const c = SwimCluster.create({ seed: 'auth', size: 5, keyring, metrics });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const intruder = new SwimCluster({ seed: 'intruder', size: 0, scheduler: c.scheduler, network: c.network, keyring: new Keyring([new Uint8Array(32).fill(9)]) });
    (intruder as unknown as { nextIndex: number }).nextIndex = 100;
    const evil = intruder.addNode('evil');
    evil.node.join([c.get('node-0').address]);
    c.advance(30_000);
    expect(c.get('node-0').node.member('evil')).toBeUndefined();
    expect(evil.node.liveCount).toBe(1);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'decrypt_failed' })).toBeGreaterThan(0);
  });

  it('garbage packets are dropped by reason, never thrown', () => {
    const metrics = new CountingMetrics();
    const c = SwimCluster.create({ seed: 'garbage', size: 3, metrics });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const attacker = c.network.createTransport('6.6.6.6:1');
    const target = c.get('node-0').address;
    attacker.send(target, new Uint8Array([0, 99, 1, 2]));
    attacker.send(target, new Uint8Array([0, 1, 5, 0, 200]));
    attacker.send(target, new Uint8Array([42]));
    attacker.send(target, new Uint8Array([]));
    attacker.send(target, new Uint8Array([0, 1, 250, 0, 0]));
    expect(() => c.advance(100)).not.toThrow();
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'malformed' })).toBe(2);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'bad_envelope' })).toBe(2);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'unknown_type' })).toBe(1);
    expect(c.runUntil(() => c.converged(), 5_000)).toBe(true);
  });

  it('replayed packets cannot resurrect a dead member', () => {
    const c = SwimCluster.create({ seed: 'replay', size: 5 });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const victim = c.get('node-1');
    const captured: Array<[string, Uint8Array]> = [];
    const send = victim.transport.send.bind(victim.transport);
    victim.transport.send = (to, bytes) => {
      captured.push([to, bytes.slice()]);
      send(to, bytes);
    };
    victim.node.setMetadata(new Uint8Array([1])); // puts a fresh alive about node-1 on the wire
    c.advance(3_000);
    c.crash('node-1');
    expect(c.runUntil(() => c.countObservers('node-1', 'dead') === 4, 60_000), c.replay).toBe(true);
    const replayer = c.network.createTransport(victim.address);
    for (const [to, bytes] of captured) replayer.send(to, bytes);
    c.advance(2_000);
    expect(c.countObservers('node-1', 'dead'), c.replay).toBe(4);
  });

  it('reaps dead members after gossip-to-the-dead time, and old rumours cannot resurrect them', () => {
    const c = SwimCluster.create({ seed: 'reap', size: 5 });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const oldAlive = encodePacket([
      encodeFrame({ type: 'alive', incarnation: 0, name: 'node-1', address: c.get('node-1').address, meta: new Uint8Array(0) }),
    ]);
    c.crash('node-1');
    expect(c.runUntil(() => c.countObservers('node-1', 'dead') === 4, 60_000), c.replay).toBe(true);
    c.advance(c.get('node-0').node.config.gossipToTheDeadMs + c.get('node-0').node.config.reconnectIntervalMs * 2);
    const observer = c.get('node-0').node;
    expect(observer.member('node-1')).toBeUndefined();
    expect(observer.allMembers().map((m) => m.name)).not.toContain('node-1');
    const rumour = c.network.createTransport('9.9.9.9:1');
    rumour.send(c.get('node-0').address, sealPacket(undefined, oldAlive));
    c.advance(1_000);
    expect(observer.member('node-1')).toBeUndefined();
  });

  it('a node on a lossy link raises its Lifeguard awareness and so waits longer before accusing', () => {
    const c = SwimCluster.create({ seed: 'awareness', size: 10, config: { streamFallbackProbe: false } });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const sick = c.get('node-3');
    for (const other of c.runningNodes()) {
      if (other.name === sick.name) continue;
      c.network.setLink(sick.address, other.address, { loss: 0.6 });
      c.network.setLink(other.address, sick.address, { loss: 0.6 });
    }
    let maxScore = 0;
    c.runUntil(() => (maxScore = Math.max(maxScore, sick.node.awarenessScore)) >= 2, 120_000, 100);
    expect(maxScore, c.replay).toBeGreaterThanOrEqual(2);
    const healthyScores = c.runningNodes().filter((n) => n !== sick).map((n) => n.node.awarenessScore);
    expect(Math.max(...healthyScores), c.replay).toBeLessThan(maxScore);
  });
});
