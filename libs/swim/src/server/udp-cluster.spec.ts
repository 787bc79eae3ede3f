import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng, SystemClock, SystemTimers } from '@drover/runtime';
import { localConfig } from '../config';
import { Keyring } from '../keyring';
import { SwimNode } from '../swim-node';
import { UdpTransport } from './udp-transport';

async function waitFor(done: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() >= end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('SWIM over real UDP on loopback', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((fn) => fn()));

  it('5 nodes converge; one is killed and the rest agree it is dead', async () => {
    const seed = 'udp-5';
    const keyring = new Keyring([new Uint8Array(32).fill(3)]);
    const transports = await Promise.all(Array.from({ length: 5 }, () => UdpTransport.create({ bindHost: '127.0.0.1', bindPort: 0 })));
    const nodes = transports.map(
      (transport, i) =>
        new SwimNode(
          { clock: new SystemClock(), timers: new SystemTimers(), rng: new SeededRng(seed).fork(`node-${i}`), transport },
          localConfig(`node-${i}`, { keyring }),
        ),
    );
    cleanups.push(() => nodes.forEach((n) => n.shutdown()), () => transports.forEach((t) => t.close()));
    nodes.forEach((node, i) => node.start(i === 0 ? [] : [transports[0].localAddress]));

    const allAlive = () => nodes.every((n) => n.members().length === 5 && n.members().every((m) => m.state === 'alive'));
    expect(await waitFor(allAlive, 10_000), `replay: seed=${seed}`).toBe(true);

    nodes[3].shutdown();
    transports[3].close();
    const survivors = nodes.filter((_, i) => i !== 3);
    const agreeDead = () => survivors.every((n) => n.member('node-3')?.state === 'dead');
    expect(await waitFor(agreeDead, 15_000), `replay: seed=${seed}`).toBe(true);
    expect(survivors.every((n) => n.members().length === 4)).toBe(true);
  });
});
