import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { plan, simulate, simulateProcess } from './cli';

const SCENARIOS = readdirSync(join(__dirname, 'scenarios')).filter((f) => f.endsWith('.yaml'));
const SEEDS = process.env.MESH_SIM_SEEDS ? Number(process.env.MESH_SIM_SEEDS) : 2;

describe('mesh-sim shipped scenarios (virtual time)', () => {
  it.each(SCENARIOS)('%s passes every invariant over several seeds', (file) => {
    const p = plan(['--scenario', join(__dirname, 'scenarios', file)]);
    if (p === 'help') throw new Error('unexpected');
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = simulate(p, seed);
      const failed = Object.entries(r.invariants).filter(([, i]) => !i.ok);
      expect(failed, `reproduce: ${r.reproduce}`).toEqual([]);
      expect(r.requests.sent).toBeGreaterThan(0);
    }
  });

  it('is deterministic: the same seed gives the same run', () => {
    const p = plan(['--nodes', '4', '--duration', '20s', '--seed', '5', '--fault', 'kill node-1 at 5s']);
    if (p === 'help') throw new Error('unexpected');
    const a = simulate(p, 5);
    const b = simulate(p, 5);
    expect(b.timeline).toEqual(a.timeline);
    expect(b.requests).toEqual(a.requests);
  });

  it('catches a planted bug (refutation disabled) and prints a working reproduce line', async () => {
    const cli = join(__dirname, '../dist/mesh-sim/cli.js');
    const args = ['--nodes', '5', '--workers', '4', '--duration', '60s', '--seed', '3', '--load', 'rps 5', '--fault', 'delay 700ms~200ms node-3 from 5s to 50s'];
    const healthy = await promisify(execFile)(process.execPath, [cli, ...args]);
    expect(healthy.stdout).toContain('PASS');
    const broken = await promisify(execFile)(process.execPath, [cli, ...args, '--planted-bug', 'no-refutation']).catch((e) => e);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('FAIL  no_false_positives');
    const line = /reproduce: npm run mesh-sim -- (.*)/.exec(broken.stdout)![1];
    expect(line).toContain('--planted-bug no-refutation');
    // The printed line replays the failure exactly.
    const argv = line.match(/'[^']*'|\S+/g)!.map((a) => a.replace(/^'|'$/g, ''));
    const replay = await promisify(execFile)(process.execPath, [cli, ...argv]).catch((e) => e);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('FAIL  no_false_positives');
  }, 60_000);

  it('rejects an invalid fault with a clear message and exit code 2', async () => {
    const cli = join(__dirname, '../dist/mesh-sim/cli.js');
    const err = await promisify(execFile)(process.execPath, [cli, '--fault', 'kill node-9 at 5s']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('node-9 does not exist');
  });

  it('process mode: real gateway and worker processes, SIGKILL and restart, invariants hold', async () => {
    const p = plan(['--mode', 'process', '--nodes', '3', '--workers', '2', '--duration', '10s', '--load', 'rps 10', '--fault', 'kill node-2 at 3s', '--fault', 'restart node-2 at 7s', '--fault', 'kill worker-1 at 4s']);
    if (p === 'help') throw new Error('unexpected');
    const r = await simulateProcess(p, 1);
    const failed = Object.entries(r.invariants).filter(([, i]) => !i.ok);
    expect(failed, `reproduce: ${r.reproduce}`).toEqual([]);
    expect(r.requests.ok).toBeGreaterThan(50);
    expect(r.detection_ms.p50).not.toBeNull();
  }, 120_000);

  it('process mode refuses network faults it cannot inject', () => {
    expect(() => plan(['--mode', 'process', '--fault', 'loss 10% from 0s'])).toThrow(/fault proxy/);
  });
});
