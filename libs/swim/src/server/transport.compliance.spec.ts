import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, SeededRng, VirtualScheduler, type PacketTransport } from '@drover/runtime';
import { UdpTransport } from './udp-transport';

/**
 * One compliance suite for every PacketTransport (js-libp2p's habit): the in-memory network and
 * real UDP + TCP must behave the same wherever SWIM depends on it.
 */
interface TransportHarness {
  make(count: number): Promise<PacketTransport[]>;
  /** Lets time pass until `done()` holds (virtual time or real polling). */
  waitFor(done: () => boolean, limitMs?: number): Promise<boolean>;
  teardown(): void;
}

function complianceSuite(name: string, createHarness: () => TransportHarness): void {
  describe(`PacketTransport compliance: ${name}`, () => {
    let harness: TransportHarness;
    afterEach(() => harness?.teardown());

    it('advertises a concrete host:port', async () => {
      harness = createHarness();
      const [a] = await harness.make(1);
      expect(a.localAddress).toMatch(/^[^:]+:\d+$/);
      expect(a.localAddress.startsWith('0.0.0.0')).toBe(false);
    });

    it('delivers datagrams, and the sender address reaches the sender', async () => {
      harness = createHarness();
      const [a, b] = await harness.make(2);
      const atA: number[] = [];
      const atB: Array<[string, number[]]> = [];
      a.onPacket((_from, bytes) => atA.push(...bytes));
      b.onPacket((from, bytes) => {
        atB.push([from, [...bytes]]);
        b.send(from, new Uint8Array([bytes[0] + 1]));
      });
      a.send(b.localAddress, new Uint8Array([41, 1, 2]));
      expect(await harness.waitFor(() => atA.length > 0)).toBe(true);
      expect(atB).toEqual([[a.localAddress, [41, 1, 2]]]);
      expect(atA).toEqual([42]);
    });

    it('answers stream requests, including large ones', async () => {
      harness = createHarness();
      const [a, b] = await harness.make(2);
      const seenFrom: string[] = [];
      b.onRequest((from, bytes) => {
        seenFrom.push(from);
        return bytes.map((x) => 255 - x);
      });
      const big = new Uint8Array(1_000_000).map((_, i) => i & 255);
      let reply: Uint8Array | undefined;
      let error: Error | undefined;
      a.request(b.localAddress, big, 5_000, (err, r) => {
        error = err;
        reply = r;
      });
      expect(await harness.waitFor(() => reply !== undefined || error !== undefined, 5_000)).toBe(true);
      expect(error).toBeUndefined();
      expect(reply!.length).toBe(big.length);
      expect(reply![1]).toBe(254);
      expect(reply![999_999]).toBe(255 - (999_999 & 255));
      expect(seenFrom).toEqual([a.localAddress]);
    });

    it('fails a request the handler declines', async () => {
      harness = createHarness();
      const [a, b] = await harness.make(2);
      b.onRequest(() => undefined);
      let error: Error | undefined;
      a.request(b.localAddress, new Uint8Array([1]), 2_000, (err) => (error = err));
      expect(await harness.waitFor(() => error !== undefined, 3_000)).toBe(true);
    });

    it('fails a request to a closed peer within the timeout, exactly once', async () => {
      harness = createHarness();
      const [a, b] = await harness.make(2);
      const address = b.localAddress;
      b.close();
      let calls = 0;
      a.request(address, new Uint8Array([1]), 300, () => calls++);
      expect(await harness.waitFor(() => calls > 0, 2_000)).toBe(true);
      await harness.waitFor(() => false, 400);
      expect(calls).toBe(1);
    });

    it('after close nothing is delivered and close is idempotent', async () => {
      harness = createHarness();
      const [a, b] = await harness.make(2);
      let received = 0;
      b.onPacket(() => received++);
      b.close();
      b.close();
      a.send(b.localAddress, new Uint8Array([1]));
      b.send(a.localAddress, new Uint8Array([1]));
      await harness.waitFor(() => false, 200);
      expect(received).toBe(0);
    });
  });
}

complianceSuite('memory network', () => {
  const scheduler = new VirtualScheduler();
  const network = new MemoryNetwork({ clock: scheduler, timers: scheduler, rng: new SeededRng('compliance') }, { delayMs: 2, jitterMs: 3 });
  const made: PacketTransport[] = [];
  let next = 1;
  return {
    async make(count) {
      const out = Array.from({ length: count }, () => network.createTransport(`10.0.0.${next++}:7946`));
      made.push(...out);
      return out;
    },
    async waitFor(done, limitMs = 1_000) {
      return scheduler.runUntil(done, limitMs, 1);
    },
    teardown: () => made.forEach((t) => t.close()),
  };
});

complianceSuite('udp + tcp on loopback', () => {
  const made: PacketTransport[] = [];
  return {
    async make(count) {
      const out = await Promise.all(Array.from({ length: count }, () => UdpTransport.create({ bindHost: '127.0.0.1', bindPort: 0 })));
      made.push(...out);
      return out;
    },
    async waitFor(done, limitMs = 2_000) {
      const end = Date.now() + limitMs;
      while (!done()) {
        if (Date.now() >= end) return false;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return true;
    },
    teardown: () => made.forEach((t) => t.close()),
  };
});

describe('UdpTransport addresses', () => {
  it('refuses to advertise a wildcard address', async () => {
    await expect(UdpTransport.create({ bindHost: '0.0.0.0', bindPort: 0 })).rejects.toThrow(/wildcard/);
    await expect(UdpTransport.create({ bindHost: '127.0.0.1', bindPort: 0, advertiseHost: '0.0.0.0' })).rejects.toThrow(/wildcard/);
  });

  it('binds one address and advertises another', async () => {
    const t = await UdpTransport.create({ bindHost: '0.0.0.0', bindPort: 0, advertiseHost: '127.0.0.1' });
    try {
      expect(t.localAddress).toBe(`127.0.0.1:${t.boundPort}`);
      const u = await UdpTransport.create({ bindHost: '127.0.0.1', bindPort: 0, advertiseHost: '127.0.0.1', advertisePort: 40000 });
      expect(u.localAddress).toBe('127.0.0.1:40000');
      u.close();
    } finally {
      t.close();
    }
  });
});
