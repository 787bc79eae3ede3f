/**
 * `npm run bench -- swim --json`: SWIM failure detection, dissemination and overhead with the LAN
 * default timings, in virtual time, for n ∈ {10, 100, 500}. Stdout carries only the measured
 * figures; the figures the configured timings predict are printed beside them on stderr.
 */
import { parseArgs } from 'node:util';
import { noopMetrics } from '@drover/runtime';
import {
  encodeFrame,
  encodePacket,
  expectedConfirmations,
  deriveTimings,
  detectionPeriodsQuantile,
  expectedDetectionPeriods,
  Keyring,
  LAN_TIMINGS,
  pushPullIntervalMs,
  SEAL_OVERHEAD,
  SwimCluster,
  type MemberEvent,
  type SwimConfig,
} from '@drover/swim';

export const description = 'SWIM (LAN defaults, virtual time): detection p50/p99, dead-by-all, join rounds, false positives under loss, bytes/s per node';

interface SizeResult {
  suspect_p50_ms: number;
  suspect_p99_ms: number;
  dead_all_p50_ms: number;
  dead_all_p99_ms: number;
  join_rounds: number;
  false_positives_loss10: number;
  bytes_per_s_per_node: number;
}

interface Extra {
  false_positives_loss0: number;
  false_positives_loss5: number;
  crashes: number;
  joins: number;
  wall_s: number;
}

const LINK = { delayMs: 1, jitterMs: 2 };

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: 'string', default: '10,100,500' },
      seed: { type: 'string', default: 'swim-bench' },
      hours: { type: 'string', default: '1' },
      crashes: { type: 'string' },
      joins: { type: 'string' },
      // Lifeguard alone: no probe over the stream path when datagrams are lost.
      'no-fallback': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes!.split(',').map(Number);
  const hours = Number(values.hours);
  const result: Record<string, SizeResult> = {};
  const extras: Record<string, Extra> = {};
  for (const n of sizes) {
    const crashes = values.crashes ? Number(values.crashes) : n >= 500 ? 24 : 60;
    const joins = values.joins ? Number(values.joins) : n >= 500 ? 5 : 12;
    const started = process.hrtime.bigint();
    const [measured, extra] = measure(n, `${values.seed}:${n}`, crashes, joins, hours, { streamFallbackProbe: !values['no-fallback'] });
    extra.wall_s = Math.round(Number(process.hrtime.bigint() - started) / 1e8) / 10;
    result[String(n)] = measured;
    extras[String(n)] = extra;
    log(`n=${n} done in ${extra.wall_s}s: ${JSON.stringify(measured)} ${JSON.stringify(extra)}`);
  }
  printTheory(sizes, result, extras, hours);
  return result;
}

interface Detection {
  suspectMs: number[];
  deadAllMs: number[];
  joinRounds: number[];
  bytesPerSecondPerNode: number;
}

/** Joins, crashes and steady traffic on a sealed (production-like) cluster. */
function measureDetection(n: number, seed: string, crashes: number, joins: number, config: Partial<SwimConfig>): Detection {
  let listener: ((observer: string, e: MemberEvent) => void) | undefined;
  const onEvent = (observer: string, e: MemberEvent): void => listener?.(observer, e);
  // Production-like: every packet sealed with the cluster key (AES-256-GCM).
  const keyring = new Keyring([new Uint8Array(32).fill(42)]);
  const cluster = SwimCluster.create({ seed, size: n, keyring, config, metrics: noopMetrics, link: LINK, onEvent });
  const rng = cluster.rng.fork('bench');
  settle(cluster, 600_000);
  log(`n=${n} converged at t=${cluster.scheduler.now()} ms`);

  // Joins: rounds (gossip intervals) until every running node lists the newcomer as alive.
  const joinRounds: number[] = [];
  for (let j = 0; j < joins; j++) {
    cluster.advance(rng.int(LAN_TIMINGS.probeIntervalMs));
    const start = cluster.scheduler.now();
    const joiner = cluster.addNode(`joiner-${j}`);
    let knowers = 0;
    listener = (_o, e) => {
      if (e.member.name === joiner.name && e.type === 'join') knowers++;
    };
    const ok = cluster.runUntil(() => knowers >= cluster.runningNodes().length - 1, 120_000, 10);
    if (!ok) throw new Error(`join ${j} did not reach everyone (${cluster.replay})`);
    joinRounds.push((cluster.scheduler.now() - start) / LAN_TIMINGS.gossipIntervalMs);
    listener = undefined;
    cluster.leave(joiner.name, 1_000); // keep n fixed
    cluster.advance(2_000);
  }
  settle(cluster, 600_000);

  // Crashes: time to the first suspicion anywhere, and until every live node marks it dead.
  const suspectMs: number[] = [];
  const deadAllMs: number[] = [];
  for (let c = 0; c < crashes; c++) {
    cluster.advance(rng.int(LAN_TIMINGS.probeIntervalMs * 2));
    const candidates = cluster.runningNodes().filter((x) => x.name.startsWith('node-') && x.name !== 'node-0');
    const victim = rng.pick(candidates).name;
    const start = cluster.scheduler.now();
    let firstSuspect = -1;
    const deadAt = new Set<string>();
    listener = (observer, e) => {
      if (e.member.name !== victim) return;
      if (firstSuspect < 0 && (e.type === 'suspect' || e.type === 'dead')) firstSuspect = cluster.scheduler.now() - start;
      if (e.type === 'dead') deadAt.add(observer);
    };
    cluster.crash(victim);
    const live = cluster.runningNodes().length;
    if (!cluster.runUntil(() => deadAt.size >= live, 300_000, 10)) throw new Error(`crash ${c} of ${victim} not detected by all (${cluster.replay})`);
    suspectMs.push(firstSuspect);
    deadAllMs.push(cluster.scheduler.now() - start);
    listener = undefined;
    cluster.restart(victim);
    settle(cluster, 300_000);
    if (c % 10 === 9) log(`n=${n} crash ${c + 1}/${crashes}`);
  }

  // Steady-state traffic (no churn, no loss), sealed packets and push-pull streams included.
  const pushPullMs = pushPullIntervalMs(LAN_TIMINGS.pushPullIntervalMs, n);
  cluster.advance(pushPullMs);
  const bytesBefore = cluster.network.stats.bytesSent + cluster.network.stats.streamBytes;
  // At least two push-pull rounds per node inside the window.
  const windowMs = Math.max(5 * 60_000, 2 * pushPullMs);
  cluster.advance(windowMs);
  const bytes = cluster.network.stats.bytesSent + cluster.network.stats.streamBytes - bytesBefore;
  const bytesPerSecondPerNode = bytes / (cluster.runningNodes().length * (windowMs / 1000));
  cluster.shutdown();
  return { suspectMs, deadAllMs, joinRounds, bytesPerSecondPerNode };
}

/** False positives over `hours` of virtual time per loss level, on a fresh cluster. */
function measureFalsePositives(n: number, seed: string, hours: number, config: Partial<SwimConfig>): number[] {
  let listener: ((observer: string, e: MemberEvent) => void) | undefined;
  const onEvent = (observer: string, e: MemberEvent): void => listener?.(observer, e);
  // False positives over `hours` of virtual time per loss level. Sealing changes packet sizes
  // only, never a protocol decision, so this (long) part runs unsealed to save CPU.
  const soak = SwimCluster.create({ seed: `${seed}:soak`, size: n, config, metrics: noopMetrics, link: LINK, onEvent });
  settle(soak, 600_000);
  const falsePositives: number[] = [];
  for (const loss of [0, 0.05, 0.1]) {
    soak.network.setDefaultLink({ ...LINK, loss });
    let falseDeaths = 0;
    let suspicions = 0;
    listener = (_o, e) => {
      if (e.type === 'suspect') suspicions++;
      if (e.type === 'dead' && soak.nodes.get(e.member.name)?.running) falseDeaths++;
    };
    soak.advance(hours * 3600_000);
    falsePositives.push(falseDeaths);
    listener = undefined;
    log(`n=${n} loss=${loss * 100}%: ${falseDeaths} false positives (${suspicions} suspect marks)`);
  }
  soak.shutdown();
  return falsePositives;
}

function measure(n: number, seed: string, crashes: number, joins: number, hours: number, config: Partial<SwimConfig>): [SizeResult, Extra] {
  // Separate functions, so the first cluster is garbage before the long soak starts.
  const { suspectMs, deadAllMs, joinRounds, bytesPerSecondPerNode } = measureDetection(n, seed, crashes, joins, config);
  const sorted = (xs: number[]): string => [...xs].sort((a, b) => a - b).map((x) => Math.round(x)).join(' ');
  log(`n=${n} first suspicion ms, sorted: ${sorted(suspectMs)}`);
  log(`n=${n} dead on all ms, sorted: ${sorted(deadAllMs)}`);
  const falsePositives = measureFalsePositives(n, seed, hours, config);
  return [
    {
      suspect_p50_ms: quantile(suspectMs, 0.5),
      suspect_p99_ms: quantile(suspectMs, 0.99),
      dead_all_p50_ms: quantile(deadAllMs, 0.5),
      dead_all_p99_ms: quantile(deadAllMs, 0.99),
      join_rounds: quantile(joinRounds, 0.5),
      false_positives_loss10: falsePositives[2],
      bytes_per_s_per_node: Math.round(bytesPerSecondPerNode),
    },
    { false_positives_loss0: falsePositives[0], false_positives_loss5: falsePositives[1], crashes, joins, wall_s: 0 },
  ];
}

function settle(cluster: SwimCluster, limitMs: number): void {
  if (!cluster.runUntil(() => cluster.converged(), limitMs, 1_000)) throw new Error(`did not converge (${cluster.replay})`);
}

/** Nearest-rank quantile. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[index] * 10) / 10;
}

function log(line: string): void {
  process.stderr.write(`[swim +${process.uptime().toFixed(1)}s] ${line}\n`);
}

/** What the configured timings predict, beside what was measured. */
function printTheory(sizes: number[], measured: Record<string, SizeResult>, extras: Record<string, Extra>, hours: number): void {
  const t = LAN_TIMINGS;
  const ping = encodeFrame({ type: 'ping', seq: 1, target: 'node-123', source: 'node-456', sourceAddress: '10.0.1.200:7946' });
  const ack = encodeFrame({ type: 'ack', seq: 1 });
  const probeBytes = encodePacket([ping]).length + encodePacket([ack]).length + 2 * SEAL_OVERHEAD;
  log('theory (LAN defaults) vs measured:');
  for (const n of sizes) {
    const d = deriveTimings(t, n);
    const meanPeriods = expectedDetectionPeriods(n);
    const p99Periods = detectionPeriodsQuantile(n, 0.99);
    // First suspicion: the crashed member must be chosen as a target (geometric in the periods,
    // mean e/(e−1)) and that probe must run out (≤ one more period: ack timeout + indirect probes).
    const suspectMean = meanPeriods * t.probeIntervalMs;
    const suspectP99 = (p99Periods + 1) * t.probeIntervalMs;
    const k = expectedConfirmations(t.suspicionMult, n);
    const m = measured[String(n)];
    const x = extras[String(n)];
    log(
      `  n=${n}: first suspicion ≈ ${suspectMean.toFixed(0)} ms mean (${meanPeriods.toFixed(2)} periods; +≤1 period for the failing probe), ` +
        `≤ ${suspectP99} ms p99 | measured p50 ${m.suspect_p50_ms}, p99 ${m.suspect_p99_ms}`,
    );
    log(
      `         suspicion timeout ${d.suspicionMinMs} ms with k=${k} confirmations (max ${d.suspicionMaxMs} ms) → dead by all ≈ ` +
        `${suspectP99 + d.suspicionMinMs} ms p99 + ~log(n) gossip rounds | measured p50 ${m.dead_all_p50_ms}, p99 ${m.dead_all_p99_ms}`,
    );
    log(
      `         retransmit limit ${d.retransmitLimit}, join ≈ log_${t.gossipNodes + 1}(n)=${(Math.log(n) / Math.log(t.gossipNodes + 1)).toFixed(1)} gossip rounds | measured ${m.join_rounds} rounds of ${t.gossipIntervalMs} ms`,
    );
    log(
      `         steady traffic ≈ ${(probeBytes + (2 * (7 + SEAL_OVERHEAD)) / (d.pushPullIntervalMs / 1000)).toFixed(0)} B/s per node ` +
        `(one sealed ping + one ack per second, a digest-only push-pull every ${d.pushPullIntervalMs / 1000} s) | measured ${m.bytes_per_s_per_node} B/s`,
    );
    log(`         false positives per ${hours} h: loss 0% ${x.false_positives_loss0}, 5% ${x.false_positives_loss5}, 10% ${m.false_positives_loss10} (${x.crashes} crashes, ${x.joins} joins, ${x.wall_s}s wall)`);
  }
}
