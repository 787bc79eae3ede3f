import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { plan, sweepMix } from './cli';
import { parseFault } from './faults';
import { generateMix } from './sweep';

/** Mixes the CI sweep runs (virtual time; a longer sweep runs on demand: see BENCHMARKS.md). */
const CI_SWEEP = process.env.MESH_SIM_SWEEP ? Number(process.env.MESH_SIM_SWEEP) : 3;
const CI_SEED = 1;

describe('mesh-sim --sweep: generated fault mixes', () => {
  it('generates valid, replayable mixes of every fault kind, within what the invariants promise', () => {
    const kinds = new Set<string>();
    let twoSidedCrashes = 0;
    for (let i = 0; i < 300; i++) {
      const mix = generateMix(7, i);
      expect(generateMix(7, i)).toEqual(mix);
      const p = plan([...mix.argv, '--seed', String(mix.seed)]);
      if (p === 'help') throw new Error('unexpected');
      const faults = p.faultTexts.map(parseFault);
      for (const f of faults) {
        kinds.add(f.kind);
        // worker-0 always serves; loss and delay stay where SWIM owes no false positive.
        if ('target' in f && f.target) expect(f.target).not.toBe('worker-0');
        if (f.kind === 'loss') expect(f.rate).toBeLessThanOrEqual(0.15);
        if (f.kind === 'delay') expect(f.meanMs + f.jitterMs).toBeLessThanOrEqual(225);
      }
      const cuts = faults.filter((f) => f.kind === 'partition');
      expect(cuts.length).toBeLessThanOrEqual(1);
      if (cuts[0]?.kind === 'partition') {
        const [a, b] = cuts[0].groups;
        const killed = faults.filter((f) => f.kind === 'kill').map((f) => (f as { target: string }).target);
        if (killed.some((k) => a.includes(k)) && killed.some((k) => b.includes(k))) twoSidedCrashes++;
      }
    }
    expect([...kinds].sort()).toEqual(['churn', 'delay', 'flap', 'kill', 'loss', 'partition', 'pause', 'restart', 'rolling-restart', 'stall']);
    expect(twoSidedCrashes).toBeGreaterThan(0);
    expect(generateMix(8, 0)).not.toEqual(generateMix(7, 0));
  });

  it(`a bounded sweep (${CI_SWEEP} mixes, virtual time) passes every invariant`, () => {
    for (let i = 0; i < CI_SWEEP; i++) {
      const v = sweepMix(CI_SEED, i);
      expect(v.failed, `mix ${i} of sweep seed ${CI_SEED}; reproduce: ${v.reproduce}`).toEqual([]);
    }
  }, 240_000);

  it('the CLI refuses a sweep mixed with a hand-written plan (exit 2)', async () => {
    const cli = join(__dirname, '../dist/mesh-sim/cli.js');
    const err = await promisify(execFile)(process.execPath, [cli, '--sweep', '2', '--nodes', '4']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('--sweep generates its own mixes');
    const bad = await promisify(execFile)(process.execPath, [cli, '--sweep', '0']).catch((e) => e);
    expect(bad.code).toBe(2);
  });
});
