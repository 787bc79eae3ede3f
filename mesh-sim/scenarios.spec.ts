import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { plan, simulate } from './cli';

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
  }, 240_000); // churn-200 takes ~30 s alone; a loaded CI machine must not turn that into a failure

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

  it('catches a planted routing-state bug (a node drops peers\' routing ops) in state_convergence', () => {
    const p = plan(['--nodes', '4', '--workers', '4', '--duration', '20s', '--load', 'rps 10', '--planted-bug', 'drop-route-ops']);
    if (p === 'help') throw new Error('unexpected');
    const broken = simulate(p, 1);
    expect(broken.ok, `reproduce: ${broken.reproduce}`).toBe(false);
    expect(broken.invariants.state_convergence.ok, `reproduce: ${broken.reproduce}`).toBe(false);
    // Versions still agree (the ops arrived); only the content digests show the divergence.
    expect(broken.invariants.state_convergence.detail).toMatch(/routing shard digests differ after quiescence for origin\(s\) node-[023]/);
    expect(broken.reproduce).toContain('--planted-bug drop-route-ops');
    const healthy = simulate({ ...p, plantedBug: undefined }, 1);
    expect(healthy.invariants.state_convergence, `reproduce: ${healthy.reproduce}`).toMatchObject({ ok: true });
    expect(healthy.invariants.state_convergence.detail).toContain('routing shard digests (4 origins)');
  });

  it('rejects an invalid fault with a clear message and exit code 2', async () => {
    const cli = join(__dirname, '../dist/mesh-sim/cli.js');
    const err = await promisify(execFile)(process.execPath, [cli, '--fault', 'kill node-9 at 5s']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('node-9 does not exist');
  });

  it('process mode refuses, up front, what it cannot run', () => {
    expect(() => plan(['--mode', 'process', '--nodes', '3', '--fault', 'join node-1 at 5s'])).toThrow(/already in the cluster/);
    expect(() => plan(['--mode', 'process', '--nodes', '8', '--fault', 'join node-8 at 5s', '--fault', 'join node-9 at 6s'])).toThrow(/at most 9 gateway processes/);
    expect(() => plan(['--mode', 'process', '--planted-bug', 'no-refutation'])).toThrow(/virtual/);
    for (const f of ['loss 10% from 0s', 'delay 50ms~20ms node-1 from 0s to 5s', 'partition node-0 | node-1 from 1s to 2s', 'join node-5 at 3s', 'rolling-restart every 2s from 1s', 'churn 20% every 2s from 1s to 5s']) {
      expect(() => plan(['--mode', 'process', '--fault', f]), f).not.toThrow();
    }
  });
});
