import createTestnet from 'hyperdht/testnet';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Keyring } from '@drover/swim';
import { HyperswarmDiscovery, meshTopics } from './hyperswarm-discovery';

describe('hyperswarm discovery on a local DHT testnet (loopback only)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('nodes sharing a cluster key find each other (one mid-rotation joins both topics); a node with another key does not', async () => {
    const testnet = await createTestnet(3, { host: '127.0.0.1' });
    cleanup.push(() => testnet.destroy());
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`);
    const make = (addr: string, ring: Keyring) => {
      const d = new HyperswarmDiscovery({ topics: meshTopics(ring), meshAddress: addr, bootstrap, refreshMs: 300, onSeeds: () => undefined });
      cleanup.push(() => d.stop());
      return d;
    };
    const key = randomBytes(32);
    const next = randomBytes(32);
    // The third node is mid-rotation: primary `next`, `key` still installed (it joins both topics).
    const rotating = new Keyring([next]);
    rotating.addKey(key);
    const nodes = [make('127.0.0.1:7001', new Keyring([key])), make('127.0.0.1:7002', new Keyring([key])), make('127.0.0.1:7003', rotating)];
    const outsider = make('127.0.0.1:7999', new Keyring([randomBytes(32)]));
    await Promise.all([...nodes, outsider].map((n) => n.start()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !nodes.every((n) => n.found.size === 2)) await new Promise((r) => setTimeout(r, 100));
    for (const n of nodes) {
      expect(n.found.size).toBe(2);
      expect(n.found.has('127.0.0.1:7999')).toBe(false);
    }
    expect(outsider.found.size).toBe(0);
    // The topic is announced publicly: it is neither the key nor a sealing subkey.
    const [topic] = meshTopics(new Keyring([key]));
    expect(topic.equals(key)).toBe(false);
    expect(topic.length).toBe(32);
  }, 60_000);
});
