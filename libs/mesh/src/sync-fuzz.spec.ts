import { describe, expect, it } from 'vitest';
import { PrefixShards, type TreeOp } from '@drover/radix-tree';
import { MemoryNetwork, SeededRng, VirtualScheduler } from '@drover/runtime';
import { fuzzCase, fuzzSettings, Keyring, localConfig, replayCommand } from '@drover/swim';
import { createMeshNode, type MeshNode } from './mesh-node';
import { PacketSyncTransport } from './packet-sync-transport';
import { openSyncFrame, sealSyncFrame } from './sync-envelope';

const SPEC = 'libs/mesh/src/sync-fuzz.spec.ts';
/** Cases per run in CI; FUZZ_CASES=100000 for a long run. */
const { seed, indices } = fuzzSettings('sync-fuzz-1', 1500);
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 255);

/**
 * Three meshed nodes exchange registry, routing and load state in virtual time while every sync
 * frame node-1 and node-2 send is captured. Then node-0 is fed seeded mutations (random,
 * truncated, bit-flipped, spliced, extended) and verbatim replays of those frames.
 */
function capturedMesh() {
  const sched = new VirtualScheduler();
  const rng = new SeededRng('sync-fuzz-mesh');
  const swimNet = new MemoryNetwork({ clock: sched, timers: sched, rng: rng.fork('swim') }, { delayMs: 1, jitterMs: 2 });
  const syncNet = new MemoryNetwork({ clock: sched, timers: sched, rng: rng.fork('sync') }, { delayMs: 1, jitterMs: 2 });
  const frames: { from: string; frame: Uint8Array }[] = [];
  const nodes: { mesh: MeshNode<TreeOp>; shards: PrefixShards }[] = [];
  for (let i = 0; i < 3; i++) {
    const name = `node-${i}`;
    const shards = new PrefixShards(1_000_000);
    const sync = new PacketSyncTransport(syncNet.createTransport(`10.0.0.${i}:7947`), name);
    const send = sync.send.bind(sync);
    sync.send = (peer, address, frame) => {
      if (i > 0 && peer === 'node-0' && frames.length < 400) frames.push({ from: name, frame: new Uint8Array(frame) });
      send(peer, address, frame);
    };
    const mesh = createMeshNode<TreeOp>(
      { clock: sched, timers: sched, rng: rng.fork(name), swimTransport: swimNet.createTransport(`10.0.0.${i}:7946`), syncTransport: sync, shard: shards },
      { nodeName: name, swim: localConfig(name), httpUrl: `http://10.0.0.${i}:8080` },
    );
    nodes.push({ mesh, shards });
  }
  nodes.forEach((n, i) => n.mesh.start(i === 0 ? [] : ['10.0.0.0:7946']));
  expect(sched.runUntil(() => nodes.every((n) => n.mesh.members().filter((m) => m.state === 'alive').length === 3), 30_000)).toBe(true);
  nodes[1].mesh.registry.upsertWorker('w-1', { url: 'grpc://a:1' });
  nodes[2].mesh.registry.setPolicy('m', { policy: 'round_robin' });
  for (let r = 0; r < 300; r++) nodes[1 + (r % 2)].mesh.appendRouteOp(nodes[1 + (r % 2)].shards.record([1, 2, r % 17, r], `w-${r % 3}`));
  nodes[1].mesh.setLocalLoad('w-1', { inFlight: 3, queued: 1 });
  const same = () => new Set(nodes.map((n) => JSON.stringify(n.mesh.digest()))).size === 1;
  expect(sched.runUntil(() => same() && frames.length >= 50, 60_000)).toBe(true);
  sched.runUntil(() => false, 2_000);
  return { sched, nodes, frames, same };
}

describe('sync packet fuzzer (seeded; FUZZ_SEED / FUZZ_CASES / FUZZ_CASE)', () => {
  it(`sealed sync frames: every mutation is refused, a copy of a frame already opened is refused as a replay (${indices.length} cases, seed ${seed})`, () => {
    const { frames } = capturedMesh();
    // One receiving view, as a node has: it remembers what it opened (the replay window).
    const ring = new Keyring([KEY]).withPurpose('sync-frame');
    const sealed = frames.map((f) => sealSyncFrame(new Keyring([KEY]), f.from, 'node-0', f.frame));
    const seen = new Set<number>();
    for (const index of indices) {
      const fuzz = fuzzCase(seed, index, sealed);
      const replay = `${fuzz.kind} case: ${replayCommand(SPEC, seed, index)}`;
      let opened: ReturnType<typeof openSyncFrame> | undefined;
      expect(() => (opened = openSyncFrame(ring, fuzz.bytes, 'node-0')), replay).not.toThrow();
      if (fuzz.kind === 'replay') {
        // The first delivery of a frame opens; every copy after it is refused as a replay.
        expect(opened!, replay).toEqual(seen.has(fuzz.baseIndex) ? { ok: false, reason: 'replayed' } : expect.objectContaining({ ok: true }));
        seen.add(fuzz.baseIndex);
        // Addressed to node-0 only: the same frame is refused by any other node.
        expect(openSyncFrame(new Keyring([KEY]), fuzz.bytes, 'node-1'), replay).toEqual({ ok: false, reason: 'wrong_target' });
      } else {
        expect(opened!.ok, replay).toBe(false);
      }
    }
  });

  it(`the sync decoders never throw on mutated frames, replays change nothing, and the mesh stays converged (${indices.length} cases)`, () => {
    const { sched, nodes, frames, same } = capturedMesh();
    const target = nodes[0].mesh.sync;
    const corpus = frames.map((f) => f.frame);
    const digest = () => JSON.stringify(nodes[0].mesh.digest());
    // Replays first, on a node no mutation has touched: a frame it already has is old news.
    const before = digest();
    for (const index of indices) {
      const fuzz = fuzzCase(seed, index, corpus, ['replay']);
      const replay = `replay case: ${replayCommand(SPEC, seed, index)}`;
      expect(() => target.onMessage(frames[fuzz.baseIndex].from, fuzz.bytes), replay).not.toThrow();
      expect(digest(), replay).toBe(before);
    }
    // Then mutations. They are unsealed here (the test above shows the seal refuses all of them),
    // so some decode and apply: the point is that no decoder throws and the node stays sound.
    for (const index of indices) {
      const fuzz = fuzzCase(seed, index, corpus, ['random', 'truncated', 'bitflip', 'splice', 'extended']);
      const replay = `${fuzz.kind} case: ${replayCommand(SPEC, seed, index)}`;
      expect(() => target.onMessage(frames[fuzz.baseIndex].from, fuzz.bytes), replay).not.toThrow();
      if (index % 50 === 49) sched.runUntil(() => false, 20);
    }
    // Whatever a mutated (unsealed) frame did, the nodes still agree afterwards and still sync.
    nodes[2].mesh.registry.upsertWorker('w-after', { url: 'grpc://c:3' });
    expect(sched.runUntil(() => same() && nodes[0].mesh.registry.workers().has('w-after'), 60_000), `seed=${seed}`).toBe(true);
    expect(nodes.every((n) => n.mesh.members().filter((m) => m.state === 'alive').length === 3)).toBe(true);
  });
});
