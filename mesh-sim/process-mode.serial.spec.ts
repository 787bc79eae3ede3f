import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plan, simulateProcess } from './cli';

// Real processes with LAN-like SWIM timings: a CPU-starved gateway is (rightly) suspected, so
// these run in the serial pass of `npm test` (`*.serial.spec.ts`), never beside other test files.
describe('mesh-sim process mode (real gateway and worker processes)', () => {
  it('real gateway and worker processes, SIGKILL and restart, invariants hold', async () => {
    const p = plan(['--mode', 'process', '--nodes', '3', '--workers', '2', '--duration', '10s', '--load', 'rps 10', '--fault', 'kill node-2 at 3s', '--fault', 'restart node-2 at 7s', '--fault', 'kill worker-1 at 4s']);
    if (p === 'help') throw new Error('unexpected');
    const r = await simulateProcess(p, 1);
    const failed = Object.entries(r.invariants).filter(([, i]) => !i.ok);
    expect(failed, `reproduce: ${r.reproduce}`).toEqual([]);
    expect(r.requests.ok).toBeGreaterThan(50);
    expect(r.detection_ms.p50).not.toBeNull();
  }, 120_000);

  it('partition and heal under loss and delay through the fault proxy (process-partition.yaml)', async () => {
    const p = plan(['--scenario', join(__dirname, 'scenarios', 'process-partition.yaml')]);
    if (p === 'help') throw new Error('unexpected');
    expect(p.mode).toBe('process');
    const r = await simulateProcess(p, 1);
    const failed = Object.entries(r.invariants).filter(([, i]) => !i.ok);
    expect(failed, `reproduce: ${r.reproduce}`).toEqual([]);
    expect(Object.keys(r.invariants)).toEqual(expect.arrayContaining(['no_false_positives', 'state_convergence', 'mesh_traffic_proxied']));
    expect(r.requests.ok).toBeGreaterThan(50);
    // The proxy really carried the mesh: every directed link, UDP and TCP, with the faults applied.
    const links = r.proxy!.links;
    const nodes = ['node-0', 'node-1', 'node-2', 'node-3'];
    const across = (a: string, b: string) => (a < 'node-2') !== (b < 'node-2');
    for (const a of nodes) {
      for (const b of nodes.filter((x) => x !== a)) {
        expect(links[`${a}>${b}`]?.udp_forwarded, `${a}>${b}`).toBeGreaterThan(0);
        if (across(a, b)) expect(links[`${a}>${b}`].udp_partitioned, `${a}>${b}`).toBeGreaterThan(0);
        else expect(links[`${a}>${b}`].udp_partitioned, `${a}>${b}`).toBe(0);
      }
    }
    const total = r.proxy!.total;
    expect(total.udp_lost).toBeGreaterThan(0);
    expect(total.udp_delayed).toBeGreaterThan(0);
    expect(total.tcp_connections).toBeGreaterThan(0);
    expect(total.tcp_bytes).toBeGreaterThan(0);
    expect(total.tcp_refused + total.tcp_reset).toBeGreaterThan(0);
    expect(r.proxy!.unidentified.udp + r.proxy!.unidentified.tcp).toBe(0);
    expect(r.heal_ms).toHaveLength(1);
  }, 120_000);

});
