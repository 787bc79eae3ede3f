import { describe, expect, it } from 'vitest';
import { PrefixShards, type TreeOp } from '@drover/radix-tree';
import { MemoryNetwork, SeededRng, VirtualScheduler } from '@drover/runtime';
import { localConfig } from '@drover/swim';
import { createMeshNode, type MeshNode } from './mesh-node';
import { PacketSyncTransport } from './packet-sync-transport';

interface SimNode {
  mesh: MeshNode<TreeOp>;
  shards: PrefixShards;
}

function cluster(seed: string, size: number, loss = 0) {
  const sched = new VirtualScheduler();
  const rng = new SeededRng(seed);
  const swimNet = new MemoryNetwork({ clock: sched, timers: sched, rng: rng.fork('swim-net') }, { delayMs: 1, jitterMs: 2, loss });
  const syncNet = new MemoryNetwork({ clock: sched, timers: sched, rng: rng.fork('sync-net') }, { delayMs: 1, jitterMs: 2, loss });
  const nodes: SimNode[] = [];
  const make = (i: number): SimNode => {
    const name = `node-${i}`;
    const shards = new PrefixShards(1_000_000);
    const mesh = createMeshNode<TreeOp>(
      { clock: sched, timers: sched, rng: rng.fork(name), swimTransport: swimNet.createTransport(`10.0.0.${i}:7946`), syncTransport: new PacketSyncTransport(syncNet.createTransport(`10.0.0.${i}:7947`), name), shard: shards },
      { nodeName: name, swim: localConfig(name), httpUrl: `http://10.0.0.${i}:8080` },
    );
    return { mesh, shards };
  };
  for (let i = 0; i < size; i++) nodes.push(make(i));
  return { sched, nodes, make, swimNet, syncNet };
}

const replay = (seed: string) => `MESH_SEED=${seed} npx vitest run libs/mesh`;
const seeds = process.env.MESH_SEED ? [process.env.MESH_SEED] : ['1', '2', '3', '4', '5'];

describe('mesh node (virtual time)', () => {
  it.each(seeds)('converges membership, registry and routing shards (seed %s)', (seed) => {
    const { sched, nodes } = cluster(seed, 4, 0.05);
    nodes.forEach((n, i) => n.mesh.start(i === 0 ? [] : ['10.0.0.0:7946']));
    const converged = () => nodes.every((n) => n.mesh.members().filter((m) => m.state === 'alive').length === 4);
    expect(sched.runUntil(converged, 30_000), replay(seed)).toBe(true);
    nodes[1].mesh.registry.upsertWorker('w-1', { url: 'grpc://a:1' });
    nodes[2].mesh.registry.upsertWorker('w-2', { url: 'grpc://b:2' });
    for (let r = 0; r < 50; r++) {
      const n = nodes[r % 4];
      n.mesh.appendRouteOp(n.shards.record([1, 2, 3, 4, r], `w-${r % 2}`));
    }
    const same = () => new Set(nodes.map((n) => JSON.stringify(n.mesh.digest()))).size === 1;
    expect(sched.runUntil(same, 30_000), replay(seed)).toBe(true);
    for (const n of nodes) {
      expect(n.mesh.registry.workers().size).toBe(2);
      // Every node's routing view holds every node's decisions.
      expect(n.shards.match([1, 2, 3, 4, 49]).perOwner.get('w-1')).toBe(5);
      expect(n.shards.match([1, 2, 3, 4, 48]).perOwner.get('w-0')).toBe(5);
    }
    nodes.forEach((n) => n.mesh.stop());
  });

  it('a joiner bootstraps the routing state by snapshot, and a partition heals', () => {
    const { sched, nodes, make, swimNet, syncNet } = cluster('joiner', 3);
    nodes.forEach((n, i) => n.mesh.start(i === 0 ? [] : ['10.0.0.0:7946']));
    for (let r = 0; r < 2000; r++) nodes[r % 3].mesh.appendRouteOp(nodes[r % 3].shards.record([7, r % 97, r], 'w-x'));
    sched.runUntil(() => false, 5000);
    const joiner = make(3);
    joiner.mesh.start(['10.0.0.1:7946']);
    // Node 0 routed [7, 3, 3] long before the joiner existed: only a snapshot can carry it.
    expect(sched.runUntil(() => joiner.shards.origins().length === 3 && joiner.shards.match([7, 3, 3]).length === 3, 30_000)).toBe(true);
    swimNet.partition(['10.0.0.0:7946', '10.0.0.1:7946'], ['10.0.0.2:7946', '10.0.0.3:7946']);
    syncNet.partition(['10.0.0.0:7947', '10.0.0.1:7947'], ['10.0.0.2:7947', '10.0.0.3:7947']);
    nodes[0].mesh.registry.upsertWorker('w-left', { side: 'left' });
    joiner.mesh.registry.upsertWorker('w-right', { side: 'right' });
    sched.runUntil(() => false, 20_000);
    swimNet.heal();
    syncNet.heal();
    const all = [...nodes, joiner];
    const same = () => new Set(all.map((n) => n.mesh.digest().registry)).size === 1 && all.every((n) => n.mesh.registry.workers().size === 2);
    expect(sched.runUntil(same, 120_000)).toBe(true);
    all.forEach((n) => n.mesh.stop());
  });
});
