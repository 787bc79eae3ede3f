import { describe, expect, it } from 'vitest';
import { MemoryNetwork } from './memory-network';
import { SeededRng } from './rng';
import { VirtualScheduler } from './virtual-scheduler';

function setup(defaults = {}) {
  const scheduler = new VirtualScheduler();
  const network = new MemoryNetwork({ clock: scheduler, timers: scheduler, rng: new SeededRng('net') }, defaults);
  return { scheduler, network };
}

describe('MemoryNetwork', () => {
  it('delivers datagrams after the link delay plus jitter', () => {
    const { scheduler, network } = setup({ delayMs: 5, jitterMs: 10 });
    const a = network.createTransport('a:1');
    const b = network.createTransport('b:1');
    const got: Array<[string, number, number]> = [];
    b.onPacket((from, bytes) => got.push([from, bytes[0], scheduler.now()]));
    a.send('b:1', new Uint8Array([7]));
    scheduler.advance(4);
    expect(got).toEqual([]);
    scheduler.advance(20);
    expect(got).toHaveLength(1);
    expect(got[0][0]).toBe('a:1');
    expect(got[0][1]).toBe(7);
    expect(got[0][2]).toBeGreaterThanOrEqual(5);
    expect(got[0][2]).toBeLessThan(15);
  });

  it('copies the bytes so the sender may reuse its buffer', () => {
    const { scheduler, network } = setup();
    const a = network.createTransport('a:1');
    const b = network.createTransport('b:1');
    let seen = -1;
    b.onPacket((_f, bytes) => (seen = bytes[0]));
    const buf = new Uint8Array([1]);
    a.send('b:1', buf);
    buf[0] = 9;
    scheduler.advance(1);
    expect(seen).toBe(1);
  });

  it('loses about the configured fraction of datagrams, reproducibly', () => {
    const run = () => {
      const { scheduler, network } = setup({ loss: 0.1 });
      const a = network.createTransport('a:1');
      const b = network.createTransport('b:1');
      let n = 0;
      b.onPacket(() => n++);
      for (let i = 0; i < 10_000; i++) a.send('b:1', new Uint8Array(1));
      scheduler.advance(1);
      return n;
    };
    const delivered = run();
    expect(delivered).toBeGreaterThan(8_800);
    expect(delivered).toBeLessThan(9_200);
    expect(run()).toBe(delivered);
  });

  it('partitions block datagrams and streams until healed', () => {
    const { scheduler, network } = setup({ delayMs: 1 });
    const a = network.createTransport('a:1');
    const b = network.createTransport('b:1');
    let packets = 0;
    b.onPacket(() => packets++);
    b.onRequest((_from, bytes) => new Uint8Array([bytes[0] + 1]));
    network.partition(['a:1'], ['b:1']);
    a.send('b:1', new Uint8Array(1));
    const replies: Array<string | number> = [];
    a.request('b:1', new Uint8Array([1]), 100, (err, reply) => replies.push(err ? 'error' : reply![0]));
    scheduler.advance(200);
    expect(packets).toBe(0);
    expect(replies).toEqual(['error']);
    network.heal();
    a.send('b:1', new Uint8Array(1));
    a.request('b:1', new Uint8Array([1]), 100, (err, reply) => replies.push(err ? 'error' : reply![0]));
    scheduler.advance(200);
    expect(packets).toBe(1);
    expect(replies).toEqual(['error', 2]);
  });

  it('a closed endpoint receives nothing and its address can be reused', () => {
    const { scheduler, network } = setup();
    const a = network.createTransport('a:1');
    const b = network.createTransport('b:1');
    let n = 0;
    b.onPacket(() => n++);
    b.close();
    a.send('b:1', new Uint8Array(1));
    scheduler.advance(1);
    expect(n).toBe(0);
    const b2 = network.createTransport('b:1');
    b2.onPacket(() => n++);
    a.send('b:1', new Uint8Array(1));
    scheduler.advance(1);
    expect(n).toBe(1);
    expect(() => network.createTransport('b:1')).toThrow();
  });

  it('per-link conditions override the defaults in one direction only', () => {
    const { scheduler, network } = setup({ delayMs: 1 });
    const a = network.createTransport('a:1');
    const b = network.createTransport('b:1');
    network.setLink('a:1', 'b:1', { loss: 1 });
    let atA = 0;
    let atB = 0;
    a.onPacket(() => atA++);
    b.onPacket(() => atB++);
    a.send('b:1', new Uint8Array(1));
    b.send('a:1', new Uint8Array(1));
    scheduler.advance(5);
    expect([atA, atB]).toEqual([1, 0]);
    expect(network.statsFor('a:1').packetsSent).toBe(1);
  });
});
