import { CountingMetrics, SeededRng, VirtualScheduler } from '@drover/runtime';
import { describe, expect, it } from 'vitest';
import { LwwRouteTable, type RouteOp } from './shard/lww-route-table';
import { SyncNode } from './sync-node';
import { SyncTestNetwork } from './testing/sync-test-network';
import { encodeMessage } from './wire/envelope';

function lone(metrics = new CountingMetrics()) {
  const clock = new VirtualScheduler();
  const sent: Array<[string, Uint8Array]> = [];
  const node = new SyncNode<RouteOp>(
    { clock, timers: clock, rng: new SeededRng('lone'), metrics, shard: new LwwRouteTable('a'), send: (p, b) => sent.push([p, b]) },
    { nodeId: 'a' },
  );
  return { node, clock, sent, metrics };
}

describe('SyncNode', () => {
  it('drops and counts frames from unknown peers and malformed frames, never throwing', () => {
    const { node, metrics } = lone();
    node.onMessage('stranger', encodeMessage({ type: 'hello', nodeId: 'stranger', maxFrameBytes: 4096 }));
    node.peerJoined('b');
    node.onMessage('b', Uint8Array.of(1, 2));
    node.onMessage('b', Uint8Array.of(9, 1, 0));
    node.onMessage('b', encodeMessage({ type: 'shard-snapshot', epoch: 7, seq: 1, snapshot: Uint8Array.of(5, 1) }));
    node.onMessage('b', encodeMessage({ type: 'doc-update', epoch: { n: 0, id: 0 }, update: Uint8Array.of(1, 2, 3) }));
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'unknown_peer' })).toBe(1);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'malformed' })).toBe(2);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'version' })).toBe(1);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'codec_rejected' })).toBe(1);
    expect(node.stats().dropped).toEqual({ unknown_peer: 1, malformed: 2, version: 1, codec_rejected: 1 });
  });

  it('sends with the smaller frame cap the two sides announced', () => {
    const net = new SyncTestNetwork({ seed: 'frames', nodes: 1 });
    const origin = net.nodes[0];
    for (let i = 0; i < 4000; i++) net.randomRouteOp(origin, 100_000, 50);
    // The joiner accepts 2 KiB frames only; the origin's default is 256 KiB.
    const joiner = net.addNode({ limits: { maxFrameBytes: 2048 } });
    let largestFrame = 0;
    const deliver = joiner.node.onMessage.bind(joiner.node);
    joiner.node.onMessage = (from, bytes) => {
      largestFrame = Math.max(largestFrame, bytes.length);
      deliver(from, bytes);
    };
    expect(net.flush()).toBe(true);
    expect(origin.node.stats().peers[joiner.id].frameCap).toBe(2048);
    expect(largestFrame).toBeLessThanOrEqual(2048);
    expect(joiner.table.originEntries(origin.id).length).toBeGreaterThan(3000);
    net.stop();
  });

  it('keeps the op log and replicas bounded under sustained routing churn', () => {
    const capacity = 1000;
    const net = new SyncTestNetwork({ seed: 'churn', nodes: 3, config: { opLogCapacity: capacity } });
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 400; i++) net.randomRouteOp(undefined, 2000, 8);
      while (net.deliverOne());
      net.advance(25);
    }
    expect(net.flush()).toBe(true);
    net.settle(500);
    for (const n of net.nodes) {
      const s = n.node.stats();
      expect(s.shard.seq).toBeGreaterThan(5 * capacity);
      expect(s.shard.logLength).toBe(capacity);
      // Every replica holds at most the key space per origin, however many ops went by.
      expect(n.table.size).toBeLessThanOrEqual(3 * 2000);
      for (const p of Object.values(s.peers)) expect(p.lag).toBe(0);
    }
    net.stop();
  });

  it('resumes a briefly disconnected peer by deltas and a peer behind the log by snapshot', () => {
    const net = new SyncTestNetwork({ seed: 'resume', nodes: 2, config: { opLogCapacity: 500 } });
    const [a, b] = net.nodes;
    const snapshots = () => a.metrics.total('drover_mesh_snapshots_sent_total');
    expect(net.flush()).toBe(true);
    const atStart = snapshots();
    net.unlink(a.id, b.id);
    for (let i = 0; i < 100; i++) net.randomRouteOp(a);
    expect(net.flush()).toBe(true);
    expect(snapshots()).toBe(atStart);
    net.unlink(a.id, b.id);
    for (let i = 0; i < 2000; i++) net.randomRouteOp(a);
    expect(net.flush()).toBe(true);
    expect(snapshots()).toBe(atStart + 1);
    net.stop();
  });

  it('sums load over the mesh and forgets a node that left or went silent', () => {
    const net = new SyncTestNetwork({ seed: 'load', nodes: 3, config: { loadTtlMs: 3000 } });
    const [a, b, c] = net.nodes;
    a.node.setLoad('w1', { inFlight: 3, queued: 1 });
    b.node.setLoad('w1', { inFlight: 2, queued: 0 });
    b.node.setLoad('w2', { inFlight: 5, queued: 2 });
    expect(net.flush()).toBe(true);
    net.advance(100);
    while (net.deliverOne());
    expect(c.node.meshLoad()).toEqual(
      new Map([
        ['w1', { inFlight: 5, queued: 1 }],
        ['w2', { inFlight: 5, queued: 2 }],
      ]),
    );
    // A newer value replaces the old one; a reordered older table does not.
    b.node.setLoad('w2', { inFlight: 1, queued: 0 });
    net.advance(100);
    while (net.deliverOne());
    expect(c.node.meshLoad().get('w2')).toEqual({ inFlight: 1, queued: 0 });
    net.disconnect(a.id);
    expect(c.node.meshLoad().get('w1')).toEqual({ inFlight: 2, queued: 0 });
    // b hangs without membership noticing: its table expires after the TTL, c's own stays.
    net.mute(b.id);
    net.settle(2000);
    expect(c.node.loadByOrigin().has(b.id)).toBe(true);
    net.settle(2000);
    expect(c.node.loadByOrigin().has(b.id)).toBe(false);
    expect(c.node.meshLoad().size).toBe(0);
    net.stop();
  });

  it('compacts the registry on the leader under churn and every node adopts the new epoch', () => {
    const net = new SyncTestNetwork({
      seed: 'compact',
      nodes: 3,
      config: { registry: { compactAboveStructs: 500, compactAboveBytes: 1 << 20 }, compactionCheckIntervalMs: 1000 },
    });
    for (let i = 0; i < 6000; i++) {
      net.randomRegistryOp(undefined, 10);
      if (i % 20 === 0) {
        while (net.deliverOne());
        net.advance(50);
      }
    }
    expect(net.flush()).toBe(true);
    const epochs = new Set(net.nodes.map((n) => n.node.stats().registry.epoch));
    expect(epochs.size).toBe(1);
    expect([...epochs][0]).not.toBe('0.0');
    for (const n of net.nodes) expect(n.node.registry.structCount()).toBeLessThan(2000);
    net.stop();
  });
});
