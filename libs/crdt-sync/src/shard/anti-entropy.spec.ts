import { CountingMetrics, SeededRng, VirtualScheduler } from '@drover/runtime';
import { describe, expect, it } from 'vitest';
import { SyncNode } from '../sync-node';
import { SyncTestNetwork } from '../testing/sync-test-network';
import { ByteWriter } from '../wire/bytes';
import { encodeMessage, WIRE_VERSION } from '../wire/envelope';
import { MESSAGE_TAGS } from '../wire/messages';
import { LwwRouteTable, type RouteOp } from './lww-route-table';

const replay = (seed: string) => `replay: npx vitest run libs/crdt-sync/src/shard/anti-entropy.spec.ts (seed '${seed}')`;

describe('routing-shard anti-entropy', () => {
  it('repairs a replica that holds the right version with the wrong content (re-snapshot)', () => {
    const seed = 'ae-content';
    const net = new SyncTestNetwork({ seed, nodes: 3 });
    for (let i = 0; i < 200; i++) net.randomRouteOp();
    expect(net.flush(), replay(seed)).toBe(true);
    const [origin, holder] = net.nodes;
    const versionBefore = holder.node.shardVersions().get(origin.id);
    // Content changes behind the channel's back: versions still agree, only digests can tell.
    holder.table.applyOp(origin.id, { prefix: 424242, worker: 'ghost', time: 1e9 });
    expect(net.divergence(), replay(seed)).toBe(`${holder.id}'s copy of ${origin.id}'s shard differs`);
    expect(holder.node.digest().shards).toBe(origin.node.digest().shards);
    // Two digest rounds (~5 s each) to confirm, then the snapshot.
    let repairedAt: number | undefined;
    for (let t = 0; t < 30_000 && repairedAt === undefined; t += 100) {
      net.settle(100);
      if (net.converged()) repairedAt = t;
    }
    expect(repairedAt, `${replay(seed)}: ${net.divergence()}`).toBeDefined();
    expect(holder.node.shardVersions().get(origin.id)).toEqual(versionBefore);
    const s = holder.node.stats().antiEntropy;
    expect(s.mismatches).toBeGreaterThanOrEqual(2);
    expect(s.snapshotRequests).toBe(1);
    expect(holder.metrics.counter('drover_mesh_anti_entropy_repairs_total', { kind: 'snapshot' })).toBe(1);
    net.stop();
  });

  it('pulls a resend when a replica is stuck behind a quiet origin whose retransmit never fires', () => {
    const seed = 'ae-stuck';
    // Retransmits effectively off: only anti-entropy can notice the lost batch.
    const net = new SyncTestNetwork({ seed, nodes: 2, config: { retransmitAfterMs: 1e12 } });
    const [origin, holder] = net.nodes;
    net.settle(2000);
    net.mute(origin.id);
    for (let i = 0; i < 50; i++) net.randomRouteOp(origin);
    net.settle(200);
    net.mute(origin.id, false);
    expect(holder.table.originEntries(origin.id).length).toBe(0);
    let t = 0;
    while (!net.converged() && t < 30_000) {
      net.settle(100);
      t += 100;
    }
    expect(net.divergence(), replay(seed)).toBeUndefined();
    expect(holder.node.stats().antiEntropy.resendRequests, replay(seed)).toBeGreaterThanOrEqual(1);
    expect(holder.metrics.counter('drover_mesh_anti_entropy_repairs_total', { kind: 'resend' })).toBeGreaterThanOrEqual(1);
    net.stop();
  });

  it('costs one small digest per peer per round in steady state, and asks for nothing', () => {
    const seed = 'ae-steady';
    const net = new SyncTestNetwork({ seed, nodes: 5 });
    for (let i = 0; i < 500; i++) net.randomRouteOp();
    expect(net.flush(), replay(seed)).toBe(true);
    net.settle(2000); // the extra digests a join schedules (1.5 s after it) are out
    const before = net.nodes.map((n) => n.node.stats().antiEntropy);
    const minutes = 2;
    net.settle(minutes * 60_000, 100);
    for (const [i, n] of net.nodes.entries()) {
      const s = n.node.stats().antiEntropy;
      const rounds = s.rounds - before[i].rounds;
      const bytes = s.bytesOut - before[i].bytesOut;
      // ~5 s ± 25% a round → 19..32 rounds in two minutes, 4 peers each, under 64 bytes a digest.
      expect(rounds).toBeGreaterThanOrEqual(19);
      expect(rounds).toBeLessThanOrEqual(32);
      expect(s.digestsSent - before[i].digestsSent).toBe(rounds * 4);
      expect(bytes / (s.digestsSent - before[i].digestsSent)).toBeLessThan(64);
      expect(bytes / (minutes * 60)).toBeLessThan(60);
      expect([s.snapshotRequests, s.resendRequests, s.mismatches]).toEqual([before[i].snapshotRequests, before[i].resendRequests, 0]);
    }
    net.stop();
  });

  it('drops and counts malformed, unauthenticated and flooding digests, never throwing', () => {
    const clock = new VirtualScheduler();
    const metrics = new CountingMetrics();
    const table = new LwwRouteTable('a');
    const node = new SyncNode<RouteOp>({ clock, timers: clock, rng: new SeededRng('lone'), metrics, shard: table, send: () => undefined }, { nodeId: 'a' });
    const digest = (epoch: number, digestText: string) => encodeMessage({ type: 'shard-digest', epoch, seq: 3, digest: digestText });
    // Not a member: whatever it says is dropped before it is read.
    node.onMessage('stranger', digest(5, 'abc'));
    node.peerJoined('b');
    node.onMessage('b', digest(0, 'abc')); // epoch 0 is "nothing", never a shard's
    node.onMessage('b', digest(5, 'tab\there')); // not printable ASCII
    node.onMessage('b', digest(5, 'x'.repeat(65))); // longer than any digest
    node.onMessage('b', digest(5, 'abc').subarray(0, 5)); // truncated
    const trailing = new ByteWriter().u8(WIRE_VERSION).u8(MESSAGE_TAGS['shard-digest']).u8(0).varUint(5).varUint(3).string('abc').u8(1).finish();
    node.onMessage('b', trailing);
    expect(node.stats().antiEntropy.digestsReceived).toBe(0);
    // A valid one is read; a flood right behind it is not (each may cost a tree hash).
    node.onMessage('b', digest(5, 'abc'));
    node.onMessage('b', digest(5, 'abc'));
    clock.advance(250);
    node.onMessage('b', digest(5, 'abc'));
    expect(node.stats().antiEntropy.digestsReceived).toBe(2);
    expect(node.stats().dropped).toEqual({ unknown_peer: 1, malformed: 5, rate_limited: 1 });
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'malformed' })).toBe(5);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'rate_limited' })).toBe(1);
    node.stop();
  });

  it('converges after partitions heal and nodes restart under loss and duplication, over many seeds', () => {
    for (let s = 0; s < 10; s++) {
      const seed = `ae-mix-${s}`;
      const net = new SyncTestNetwork({ seed, nodes: 5, lossProbability: 0.2, duplicateProbability: 0.1 });
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 20; i++) net.randomRouteOp();
        if (round === 5) net.partition([['node-0', 'node-1'], ['node-2', 'node-3', 'node-4']]);
        if (round === 12) net.heal();
        if (round === 13) net.disconnect('node-3');
        if (round === 15) net.reconnect('node-3');
        net.settle(300);
      }
      expect(net.flush(), `${replay(seed)}: ${net.divergence()}`).toBe(true);
      net.stop();
    }
  });
});
