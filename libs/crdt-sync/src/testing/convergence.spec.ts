import { describe, expect, it } from 'vitest';
import { SyncTestNetwork } from './sync-test-network';

/** Seeds per scenario; raise CRDT_SYNC_SEEDS locally for a longer soak. */
const SEEDS = Number(process.env.CRDT_SYNC_SEEDS ?? 40);

function replay(name: string, seed: number): string {
  return `replay: CRDT_SYNC_SEED=${seed} npx vitest run libs/crdt-sync -t "${name}"`;
}

function seedsFor(_name: string): number[] {
  const only = process.env.CRDT_SYNC_SEED;
  if (only !== undefined) return [Number(only)];
  return Array.from({ length: SEEDS }, (_, i) => i + 1);
}

function runScenario(name: string, seed: number, body: (net: SyncTestNetwork) => void, options: Partial<ConstructorParameters<typeof SyncTestNetwork>[0]> = {}): void {
  const net = new SyncTestNetwork({ seed, nodes: 4, duplicateProbability: 0.1, lossProbability: 0.05, ...options });
  try {
    body(net);
    const ok = net.flush();
    if (!ok) throw new Error(`${name}: replicas did not converge (${net.divergence()}). ${replay(name, seed)}`);
  } catch (err) {
    if (err instanceof Error && !err.message.includes('replay:')) err.message += ` — ${replay(name, seed)}`;
    throw err;
  } finally {
    net.stop();
  }
}

describe('convergence under random delivery (Yjs test-connector style)', () => {
  const name = 'random ops, reordering, duplicates, loss and disconnects converge';
  it(name, () => {
    for (const seed of seedsFor(name)) {
      runScenario(name, seed, (net) => {
        for (let step = 0; step < 400; step++) {
          const roll = net.rng.int(100);
          if (roll < 45) net.randomRouteOp();
          else if (roll < 55) net.randomRegistryOp();
          else if (roll < 58) net.disconnect(net.rng.pick(net.nodes).id);
          else if (roll < 62) net.reconnect(net.rng.pick(net.nodes).id);
          else if (roll < 70) net.advance(net.rng.int(50));
          else for (let k = net.rng.int(6); k > 0; k--) net.deliverOne();
        }
      });
    }
  });

  const partitionName = 'a partition with writes on both sides heals to one state';
  it(partitionName, () => {
    for (const seed of seedsFor(partitionName)) {
      runScenario(partitionName, seed, (net) => {
        net.partition([
          ['node-0', 'node-1'],
          ['node-2', 'node-3'],
        ]);
        for (let step = 0; step < 300; step++) {
          if (net.rng.bool(0.6)) net.randomRouteOp();
          else net.randomRegistryOp();
          if (net.rng.bool(0.3)) net.deliverOne();
          if (net.rng.bool(0.1)) net.advance(30);
        }
        // Both sides resolved their own view; now heal and let flush() check they agree.
        net.heal();
      });
    }
  });
});

describe('bootstrap', () => {
  it('a joiner receives every shard by snapshot and the registry by state sync', () => {
    const net = new SyncTestNetwork({ seed: 'joiner', nodes: 3 });
    for (let i = 0; i < 3000; i++) net.randomRouteOp(undefined, 5000);
    for (let i = 0; i < 50; i++) net.randomRegistryOp();
    expect(net.flush()).toBe(true);
    const joiner = net.addNode();
    expect(net.flush()).toBe(true);
    for (const origin of ['node-0', 'node-1', 'node-2']) {
      expect(joiner.table.originEntries(origin)).toEqual(net.byId(origin).table.originEntries(origin));
      expect(joiner.node.stats().peers[origin].theirShard?.seq).toBe(net.byId(origin).node.stats().shard.seq);
    }
    expect(joiner.node.registry.workers()).toEqual(net.byId('node-0').node.registry.workers());
    // The joiner got snapshots, not replays of the op log.
    const snapshots = net.nodes.slice(0, 3).reduce((n, x) => n + x.node.stats().peers[joiner.id].snapshotsSent, 0);
    expect(snapshots).toBe(3);
    net.stop();
  });
});
