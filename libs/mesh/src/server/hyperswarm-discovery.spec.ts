import createTestnet from 'hyperdht/testnet';
import { afterAll, describe, expect, it } from 'vitest';
import { HyperswarmDiscovery } from './hyperswarm-discovery';

describe('hyperswarm discovery on a local DHT testnet (loopback only)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('three nodes sharing a cluster key find each other; a node with another key does not', async () => {
    const testnet = await createTestnet(3, { host: '127.0.0.1' });
    cleanup.push(() => testnet.destroy());
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
    const make = (addr: string, key: string) => {
      const d = new HyperswarmDiscovery({ clusterKey: key, meshAddress: addr, bootstrap, refreshMs: 300, onSeeds: () => undefined });
      cleanup.push(() => d.stop());
      return d;
    };
    const nodes = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'].map((a) => make(a, 'secret'));
    const outsider = make('127.0.0.1:7999', 'other-secret');
    await Promise.all([...nodes, outsider].map((n) => n.start()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !nodes.every((n) => n.found.size === 2)) await new Promise((r) => setTimeout(r, 100));
    for (const n of nodes) {
      expect(n.found.size).toBe(2);
      expect(n.found.has('127.0.0.1:7999')).toBe(false);
    }
    expect(outsider.found.size).toBe(0);
  }, 60_000);
});
