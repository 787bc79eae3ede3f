/**
 * `npm run mesh-sim -- [options]`: runs a mesh of gateway nodes and workers with injected faults,
 * checks invariants, and prints how to replay any failure. See mesh-sim/README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { checkNames, FaultSyntaxError, parseDuration, parseFault, type Fault } from './faults';
import { percentile, renderReport, type SimReport } from './report';
import { runProcess, unsupportedInProcessMode } from './process/run-process';
import { runVirtual } from './virtual/run-virtual';
import { generateMix } from './sweep';

const HELP = `usage: npm run mesh-sim -- [options]

  --mode virtual|process   virtual time (default), or real gateway and mock-worker processes on
                           loopback: signals as node faults, a UDP/TCP fault proxy between gateways
                           for partition, loss and delay (at most 9 gateways, joiners included)
  --scenario FILE          a mesh-sim/scenarios/*.yaml file (flags below override it)
  --nodes N                gateway nodes node-0..node-(N-1) (default 5)
  --workers M              workers worker-0..worker-(M-1) (default 4)
  --duration 120s          simulated time of load and faults (default 60s)
  --seed S                 seed (default 1); --seeds K runs seeds S..S+K-1
  --load 'rps 50 multiturn'   offered load (default 'rps 20 multiturn'; 'rps 0' for membership only)
  --fault '...'            repeatable, e.g. 'kill node-2 at 10s', 'partition node-0,node-1 | node-2 from 20s to 40s',
                           'loss 10% from 0s', 'delay 50ms~20ms node-3 from 0s', 'stall worker-1 from 5s to 15s',
                           'flap node-4 every 5s from 80s to 100s', 'rolling-restart every 10s from 10s', 'churn 5% every 10s from 10s to 60s'
  --planted-bug no-refutation   break SWIM on purpose: a correct suite must fail
  --planted-bug drop-route-ops  node-1 skips every 50th routing op from peers and has no content digest
                           for anti-entropy to repair with (state_convergence must fail)
  --sweep N                N generated fault mixes (virtual mode) from --seed S: loss, delay/jitter,
                           partitions of random shapes, crashes and restarts on both sides, stalls,
                           worker kills, pauses, flaps, rolling restarts, churn, overlapping; every
                           invariant checked on each, the replay line of any failure printed
  --json FILE              write the report (the last seed's, plus every seed's verdict; with
                           --sweep, every mix's verdict and replay line)
  -h, --help`;

class UsageError extends Error {}

interface Plan {
  scenario: string;
  nodes: number;
  workers: number;
  durationMs: number;
  rps: number;
  faults: Fault[];
  faultTexts: string[];
  seed: number;
  seeds: number;
  /** Generated fault mixes to run instead of one plan (`--sweep N`). */
  sweep?: number;
  plantedBug?: 'no-refutation' | 'drop-route-ops';
  json?: string;
  mode: 'virtual' | 'process';
}

function plan(argv: string[]): Plan | 'help' {
  let v: Record<string, any>;
  try {
    v = parseArgs({
      args: argv,
      options: {
        mode: { type: 'string' },
        scenario: { type: 'string' },
        nodes: { type: 'string' },
        workers: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string', default: '1' },
        seeds: { type: 'string', default: '1' },
        load: { type: 'string' },
        fault: { type: 'string', multiple: true },
        'planted-bug': { type: 'string' },
        json: { type: 'string' },
        sweep: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.help) return 'help';
  if (v.sweep !== undefined) {
    const n = Number(v.sweep);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`--sweep must be an integer from 1 to 100000, got '${v.sweep}'`);
    const others = ['mode', 'scenario', 'nodes', 'workers', 'duration', 'load', 'fault', 'planted-bug'].filter((k) => v[k] !== undefined);
    if (others.length > 0 || v.seeds !== '1') throw new UsageError(`--sweep generates its own mixes: it takes only --seed and --json (not --${others[0] ?? 'seeds'})`);
  }
  let scenario: Record<string, any> = {};
  if (v.scenario) {
    try {
      scenario = parseYaml(readFileSync(v.scenario, 'utf8')) ?? {};
    } catch (err) {
      throw new UsageError(`--scenario ${v.scenario}: ${(err as Error).message}`);
    }
  }
  const mode = v.mode ?? scenario.mode ?? 'virtual';
  if (mode !== 'virtual' && mode !== 'process') throw new UsageError(`--mode must be virtual or process, got '${mode}'`);
  const int = (x: unknown, name: string, min: number, max: number): number => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${x}'`);
    return n;
  };
  const nodes = int(v.nodes ?? scenario.nodes ?? 5, '--nodes', 1, 1000);
  const workers = int(v.workers ?? scenario.workers ?? 4, '--workers', 1, 256);
  let durationMs: number;
  try {
    durationMs = parseDuration(String(v.duration ?? scenario.duration ?? '60s'));
  } catch (err) {
    throw new UsageError(`--duration: ${(err as Error).message}`);
  }
  const load = String(v.load ?? scenario.load ?? 'rps 20 multiturn');
  const m = /^rps (\d+(?:\.\d+)?)(?: multiturn)?$/.exec(load.trim());
  if (!m) throw new UsageError(`--load must look like 'rps 50 multiturn', got '${load}'`);
  const faultTexts: string[] = v.fault ?? scenario.faults ?? [];
  const faults = faultTexts.map((text) => {
    try {
      const f = parseFault(text);
      checkNames(f, nodes, workers, text);
      return f;
    } catch (err) {
      if (err instanceof FaultSyntaxError) throw new UsageError(err.message);
      throw err;
    }
  });
  const bug = v['planted-bug'];
  if (bug !== undefined && bug !== 'no-refutation' && bug !== 'drop-route-ops') throw new UsageError(`unknown --planted-bug '${bug}'`);
  if (mode === 'process') {
    const why = unsupportedInProcessMode(faults, nodes);
    if (why) throw new UsageError(why);
    if (bug) throw new UsageError('--planted-bug breaks the in-process mesh of virtual mode; process mode runs the released gateway (use --mode virtual)');
  }
  return {
    scenario: v.scenario ?? scenario.name ?? 'custom',
    nodes,
    workers,
    durationMs,
    rps: Number(m[1]),
    faults,
    faultTexts,
    seed: int(v.seed, '--seed', 0, 2 ** 31),
    seeds: int(v.seeds, '--seeds', 1, 1000),
    plantedBug: bug as Plan['plantedBug'],
    json: v.json,
    mode,
    sweep: v.sweep === undefined ? undefined : Number(v.sweep),
  };
}

function reproduce(p: Plan, seed: number): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = ['npm run mesh-sim --', `--nodes ${p.nodes}`, `--workers ${p.workers}`, `--duration ${p.durationMs / 1000}s`, `--seed ${seed}`, `--load ${q(`rps ${p.rps} multiturn`)}`];
  for (const f of p.faultTexts) parts.push(`--fault ${q(f)}`);
  if (p.plantedBug) parts.push(`--planted-bug ${p.plantedBug}`);
  if (p.mode === 'process') parts.push('--mode process');
  return parts.join(' ');
}

export function simulate(p: Plan, seed: number): SimReport {
  const t0 = performance.now();
  const common = { nodes: p.nodes, workers: p.workers, durationMs: p.durationMs, seed: String(seed), rps: p.rps };
  const run = runVirtual({ ...common, faults: p.faults, plantedBugs: { noRefutation: p.plantedBug === 'no-refutation', dropRouteOps: p.plantedBug === 'drop-route-ops' } });
  const baseline = p.rps > 0 && p.faults.length > 0 ? runVirtual({ ...common, faults: [] }).hitRate : run.hitRate;
  const invariants = { ...run.invariants };
  if (p.rps > 0) {
    invariants.routing_quality = {
      ok: run.hitRate >= baseline * 0.85,
      detail: `hit rate ${run.hitRate} vs ${baseline} without faults (must stay ≥ 85%)`,
    };
  }
  const ok = Object.values(invariants).every((i) => i.ok);
  return {
    ok,
    seed: String(seed),
    scenario: p.scenario,
    reproduce: reproduce(p, seed),
    mode: 'virtual',
    duration_ms: p.durationMs,
    invariants,
    requests: run.requests,
    detection_ms: { p50: percentile(run.detectionMs, 50), p99: percentile(run.detectionMs, 99) },
    convergence_ms: run.convergenceMs,
    hit_rate: run.hitRate,
    hit_rate_baseline: baseline,
    timeline: run.timeline,
    wall_ms: Math.round(performance.now() - t0),
    anti_entropy: run.antiEntropy && {
      bytes_per_sec_per_node: run.antiEntropy.bytesPerSecPerNode,
      snapshot_repairs: run.antiEntropy.snapshotRepairs,
      resend_repairs: run.antiEntropy.resendRepairs,
      mismatches: run.antiEntropy.mismatches,
    },
  };
}

/** One run in process mode (real processes on loopback). */
export async function simulateProcess(p: Plan, seed: number): Promise<SimReport> {
  const t0 = performance.now();
  const run = await runProcess({ nodes: p.nodes, workers: p.workers, durationMs: p.durationMs, seed: String(seed), rps: p.rps, faults: p.faults });
  return {
    ok: Object.values(run.invariants).every((i) => i.ok),
    seed: String(seed),
    scenario: p.scenario,
    reproduce: reproduce(p, seed),
    mode: 'process',
    duration_ms: p.durationMs,
    invariants: run.invariants,
    requests: run.requests,
    detection_ms: { p50: percentile(run.detectionMs, 50), p99: percentile(run.detectionMs, 99) },
    convergence_ms: run.convergenceMs,
    hit_rate: run.hitRate,
    hit_rate_baseline: null,
    timeline: run.timeline,
    wall_ms: Math.round(performance.now() - t0),
    proxy: run.proxy,
    partition_detection_ms: run.partitionDetectionMs,
    heal_ms: run.healMs,
  };
}

async function main(): Promise<void> {
  let p: Plan | 'help';
  try {
    p = plan(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mesh-sim: ${err.message}\n\n${HELP}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (p === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (p.sweep !== undefined) return runSweep(p.sweep, p.seed, p.json);
  if (p.mode === 'process') {
    // Ctrl-C or a SIGTERM still runs the 'exit' cleanup that kills every process the run started.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  }
  const reports: SimReport[] = [];
  for (let s = p.seed; s < p.seed + p.seeds; s++) {
    const r = p.mode === 'process' ? await simulateProcess(p, s) : simulate(p, s);
    reports.push(r);
    process.stdout.write(`${renderReport(r, p.seeds > 1 ? 0 : 60)}\n\n`);
  }
  const failed = reports.filter((r) => !r.ok);
  if (p.json) writeFileSync(p.json, JSON.stringify({ ...reports[reports.length - 1], ok: failed.length === 0, seeds: reports.map((r) => ({ seed: r.seed, ok: r.ok })) }, null, 2));
  if (failed.length > 0) {
    for (const r of failed) process.stdout.write(`reproduce: ${r.reproduce}\n`);
    process.exit(1);
  }
  process.stdout.write(`${reports.length} seed(s) passed\n`);
}

export interface SweepVerdict {
  index: number;
  seed: number;
  ok: boolean;
  failed: string[];
  reproduce: string;
  wall_ms: number;
  anti_entropy?: SimReport['anti_entropy'];
}

/** Runs mix `index` of sweep `seed` (see sweep.ts) and returns its verdict. */
export function sweepMix(seed: number, index: number): SweepVerdict {
  const mix = generateMix(seed, index);
  const p = plan([...mix.argv, '--seed', String(mix.seed)]);
  if (p === 'help') throw new Error('unexpected');
  const r = simulate(p, mix.seed);
  const failed = Object.entries(r.invariants).filter(([, i]) => !i.ok).map(([name, i]) => `${name}: ${i.detail}`);
  return { index, seed: mix.seed, ok: r.ok, failed, reproduce: r.reproduce, wall_ms: r.wall_ms, anti_entropy: r.anti_entropy };
}

function runSweep(n: number, seed: number, json?: string): void {
  const verdicts: SweepVerdict[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const v = sweepMix(seed, i);
    verdicts.push(v);
    const ae = v.anti_entropy ? `, anti-entropy ${v.anti_entropy.bytes_per_sec_per_node} B/s/node, ${v.anti_entropy.snapshot_repairs} re-snapshots` : '';
    process.stdout.write(`mix ${i + 1}/${n} (sweep seed ${seed}, mix seed ${v.seed}): ${v.ok ? 'PASS' : 'FAIL'} in ${(v.wall_ms / 1000).toFixed(1)} s${ae}\n`);
    if (!v.ok) {
      for (const f of v.failed) process.stdout.write(`  FAIL  ${f}\n`);
      process.stdout.write(`  reproduce: ${v.reproduce}\n`);
    }
  }
  const failed = verdicts.filter((v) => !v.ok);
  if (json) writeFileSync(json, JSON.stringify({ ok: failed.length === 0, sweep: n, seed, wall_ms: Math.round(performance.now() - t0), mixes: verdicts }, null, 2));
  process.stdout.write(`\n${n - failed.length}/${n} mixes passed every invariant (sweep seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  if (failed.length > 0) {
    for (const v of failed) process.stdout.write(`reproduce: ${v.reproduce}\n`);
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`mesh-sim failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
export { plan, reproduce };
