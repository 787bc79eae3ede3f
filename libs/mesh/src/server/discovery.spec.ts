import { describe, expect, it } from 'vitest';
import { noopLogger, VirtualScheduler } from '@drover/runtime';
import { DnsDiscovery, resolveSeeds } from './discovery';

describe('mesh discovery with a stub resolver', () => {
  it('resolves static seeds: IPs kept, names expanded to every address, junk dropped', async () => {
    const resolver = async (name: string) => (name === 'gateway' ? ['10.0.0.2', '10.0.0.1'] : []);
    expect(await resolveSeeds(['10.0.0.9:7946', 'gateway:7946', 'nope:7946', 'bad-seed'], resolver)).toEqual(['10.0.0.1:7946', '10.0.0.2:7946', '10.0.0.9:7946']);
  });

  it('re-resolves a headless service periodically and reports new pods', async () => {
    const sched = new VirtualScheduler();
    let records = ['10.1.0.1'];
    const seen: string[][] = [];
    const d = new DnsDiscovery('drover-mesh.ns.svc', 7946, 1000, sched, (s) => seen.push(s), noopLogger, async () => records);
    expect(await d.start()).toEqual(['10.1.0.1:7946']);
    records = ['10.1.0.1', '10.1.0.2'];
    sched.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(seen.at(-1)).toEqual(['10.1.0.1:7946', '10.1.0.2:7946']);
    d.stop();
  });

  it('survives resolver failures', async () => {
    const d = new DnsDiscovery('x', 1, 1000, new VirtualScheduler(), () => undefined, noopLogger, async () => {
      throw new Error('SERVFAIL');
    });
    expect(await d.start()).toEqual([]);
    d.stop();
  });
});
