/**
 * `npm run bench -- mesh --json`: does a mesh of N gateways route as well as one?
 * - fidelity: N ∈ {1,2,4,8} gateway nodes in virtual time (the production MeshNode: SWIM + state
 *   sync over the in-memory network) in front of the same 8 MockEngines; a multi-turn chat workload
 *   whose turns go round-robin over the nodes; every node routes with cache_aware on its own view.
 *   Engine hit rate with sync on, and with sync off (each node only knows its own decisions).
 * - bytes: sync bytes on the wire per routed request per peer, for ~20,000-character prompts.
 * - staleness: time from a routing decision on one node until all others hold it: 3 real gateway
 *   processes meshed on loopback plus a mock-worker process (bench/lib/mesh-staleness.ts).
 * - bootstrap: wall time for a joiner to receive and apply a 100,000-prefix routing shard.
 * Options: --quick (shorter runs, 100 staleness samples instead of 200); --only staleness (only
 * the process staleness figures); --staleness-samples N; --shared-pool (the engines' realistic KV
 * pool: running requests take room, cached prefixes are evicted for them); --kv-capacity N (each
 * engine's KV pool in tokens, default 262,144).
 */
import { ChatWorkload, MockEngine, type ChatSession } from '@drover/mock-worker';
import { createMeshNode, PacketSyncTransport, type MeshNode } from '@drover/mesh';
import { PrefixShards, type TreeOp } from '@drover/radix-tree';
import { createPolicy, type RoutingView, type WorkerView } from '@drover/routing';
import { MemoryNetwork, SeededRng, VirtualScheduler } from '@drover/runtime';
import { localConfig } from '@drover/swim';
import { processStaleness, type StalenessResult } from './lib/mesh-staleness';

export const description = 'mesh routing fidelity (hit rate vs N, sync on/off), bytes per request, staleness, snapshot bootstrap';

const ENGINES = 8;

interface Gateway {
  name: string;
  mesh: MeshNode<TreeOp> | undefined;
  shards: PrefixShards;
  view: RoutingView;
}

interface FidelityOptions {
  nodes: number;
  sync: boolean;
  seed: string;
  durationMs: number;
  sessionsPerSec: number;
  systemTokens: number;
  sharedPool?: boolean;
  kvCapacityTokens?: number;
}

function fidelity(opts: FidelityOptions): { hitRate: number; requests: number; bytesOut: number } {
  const sched = new VirtualScheduler();
  const root = new SeededRng(opts.seed);
  const engines = Array.from({ length: ENGINES }, (_, i) => new MockEngine({ clock: sched, timers: sched, rng: root.fork(`engine-${i}`) }, { eosProbability: 0, kvCapacityTokens: opts.kvCapacityTokens ?? 262_144, sharedKvPool: opts.sharedPool === true }));
  const inFlight = new Array<number>(ENGINES).fill(0);
  const swimNet = new MemoryNetwork({ clock: sched, timers: sched, rng: root.fork('swim-net') }, { delayMs: 0.2, jitterMs: 0.2, loss: 0 });
  const syncNet = new MemoryNetwork({ clock: sched, timers: sched, rng: root.fork('sync-net') }, { delayMs: 0.2, jitterMs: 0.2, loss: 0 });
  const policy = createPolicy('cache_aware', { balanceAbsThreshold: 2 }, { clock: sched });
  const gateways: Gateway[] = Array.from({ length: opts.nodes }, (_, i) => {
    const name = `node-${i}`;
    const shards = new PrefixShards(8_000_000);
    const workers: WorkerView[] = engines.map((_, w) => ({ id: `w${w}`, healthy: true, circuitOpen: false, inFlight: () => inFlight[w], load: () => undefined }));
    const mesh = opts.sync
      ? createMeshNode<TreeOp>(
          { clock: sched, timers: sched, rng: root.fork(name), swimTransport: swimNet.createTransport(`10.0.0.${i}:7946`), syncTransport: new PacketSyncTransport(syncNet.createTransport(`10.0.0.${i}:7947`), name), shard: shards },
          { nodeName: name, swim: localConfig(name), httpUrl: `http://10.0.0.${i}:8080` },
        )
      : undefined;
    return { name, mesh, shards, view: { workers, match: (t) => shards.match(t).perOwner } };
  });
  gateways.forEach((g, i) => g.mesh?.start(i === 0 ? [] : ['10.0.0.0:7946']));
  sched.advance(3000); // membership forms before traffic
  const start = sched.now();
  const rng = root.fork('route');
  const workload = new ChatWorkload(root.fork('workload'), { groups: 16, systemTokens: opts.systemTokens, userTokens: [64, 256], turns: [2, 6], answerTokens: 64 });
  const arrivals = root.fork('arrivals');
  let prompt = 0;
  let cached = 0;
  let requests = 0;
  let turnCounter = 0;
  const turn = (session: ChatSession): void => {
    if (sched.now() - start > opts.durationMs) return;
    const g = gateways[turnCounter++ % gateways.length];
    const tokens = session.nextPrompt();
    const d = policy.select(g.view, { tokens }, rng)!;
    const w = Number(d.workerId.slice(1));
    const op = g.shards.record(tokens, d.workerId);
    g.mesh?.appendRouteOp(op);
    inFlight[w]++;
    engines[w].submit(
      { requestId: `r${requests++}`, inputIds: tokens, maxNewTokens: 64, ignoreEos: true },
      {
        onTokens: () => undefined,
        onComplete: (res) => {
          inFlight[w]--;
          prompt += res.promptTokens;
          cached += res.cachedTokens;
          session.answer(res.outputIds);
          if (session.turnsLeft > 0) sched.setTimeout(() => turn(session), arrivals.exponential(1500));
        },
        onError: () => inFlight[w]--,
      },
    );
  };
  const arrive = (): void => {
    if (sched.now() - start > opts.durationMs) return;
    turn(workload.newSession());
    sched.setTimeout(arrive, arrivals.exponential(1000 / opts.sessionsPerSec));
  };
  arrive();
  sched.runUntilTime(start + opts.durationMs + 30_000);
  const bytesOut = gateways.reduce((a, g) => a + (g.mesh?.sync.stats().bytesOut ?? 0), 0);
  gateways.forEach((g) => g.mesh?.stop());
  return { hitRate: Math.round((cached / Math.max(1, prompt)) * 1000) / 1000, requests, bytesOut };
}

function bootstrap(prefixes: number): number {
  const sched = new VirtualScheduler();
  const root = new SeededRng('bootstrap');
  const swimNet = new MemoryNetwork({ clock: sched, timers: sched, rng: root.fork('s') }, { delayMs: 0.2, jitterMs: 0, loss: 0 });
  const syncNet = new MemoryNetwork({ clock: sched, timers: sched, rng: root.fork('y') }, { delayMs: 0.2, jitterMs: 0, loss: 0 });
  const make = (i: number) => {
    const name = `node-${i}`;
    const shards = new PrefixShards(1e12);
    const mesh = createMeshNode<TreeOp>(
      { clock: sched, timers: sched, rng: root.fork(name), swimTransport: swimNet.createTransport(`10.0.0.${i}:1`), syncTransport: new PacketSyncTransport(syncNet.createTransport(`10.0.0.${i}:2`), name), shard: shards },
      { nodeName: name, swim: localConfig(name), httpUrl: 'http://x' },
    );
    return { mesh, shards };
  };
  const a = make(0);
  const rng = root.fork('prefixes');
  const groups = Array.from({ length: 100 }, () => Array.from({ length: 256 }, () => rng.int(100_000)));
  for (let p = 0; p < prefixes; p++) a.shards.record([...groups[p % 100], ...Array.from({ length: 32 }, () => rng.int(100_000))], `w${p % 8}`);
  a.mesh.start([]);
  sched.advance(1000);
  const b = make(1);
  const t0 = performance.now();
  b.mesh.start(['10.0.0.0:1']);
  sched.runUntil(() => (b.shards.replica('node-0')?.nodes ?? 0) >= a.shards.local.nodes, 120_000, 5);
  const ms = performance.now() - t0;
  a.mesh.stop();
  b.mesh.stop();
  return Math.round(ms);
}

function optionValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

async function measureStaleness(samples: number): Promise<Record<string, unknown>> {
  const stale: StalenessResult = await processStaleness(samples, (line) => process.stderr.write(`[bench mesh] ${line}\n`));
  process.stderr.write(`[bench mesh] staleness (3 gateway processes): p50 ${stale.p50} ms, p99 ${stale.p99} ms, max ${stale.max} ms over ${stale.samples} decisions (${stale.timeouts} timed out); ±${stale.resolutionP50} ms resolution (p50); from sending the request: p50 ${stale.fromSendP50} / p99 ${stale.fromSendP99} ms (node-a applied it after ${stale.localP50} ms, p50); ${stale.pollsPerSecond} status polls/s per node\n`);
  return {
    staleness_p50_ms: stale.p50,
    staleness_p99_ms: stale.p99,
    staleness_max_ms: stale.max,
    staleness_resolution_p50_ms: stale.resolutionP50,
    staleness_from_send_p50_ms: stale.fromSendP50,
    staleness_from_send_p99_ms: stale.fromSendP99,
    staleness_local_p50_ms: stale.localP50,
    staleness_samples: stale.samples,
    staleness_timeouts: stale.timeouts,
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const quick = args.includes('--quick');
  const only = optionValue(args, '--only');
  if (only !== undefined && only !== 'staleness') throw new Error(`--only takes 'staleness' (got '${only}')`);
  const samples = Number(optionValue(args, '--staleness-samples') ?? (quick ? 100 : 200));
  if (!Number.isInteger(samples) || samples < 1) throw new Error('--staleness-samples must be a positive integer');
  if (only === 'staleness') return measureStaleness(samples);
  const capacity = optionValue(args, '--kv-capacity');
  if (capacity !== undefined && !(Number.isInteger(Number(capacity)) && Number(capacity) > 0)) throw new Error('--kv-capacity must be a positive integer');
  const base = { seed: 'mesh-bench', durationMs: quick ? 60_000 : 180_000, sessionsPerSec: 5, systemTokens: 2048, sharedPool: args.includes('--shared-pool'), kvCapacityTokens: capacity === undefined ? undefined : Number(capacity) };
  const hit: Record<string, number> = {};
  const hitNoSync: Record<string, number> = {};
  for (const n of [1, 2, 4, 8]) {
    hit[n] = fidelity({ ...base, nodes: n, sync: true }).hitRate;
    hitNoSync[n] = n === 1 ? hit[1] : fidelity({ ...base, nodes: n, sync: false }).hitRate;
    process.stderr.write(`[bench mesh] N=${n}: hit ${hit[n]} (sync off ${hitNoSync[n]})\n`);
  }
  // ~20,000-character prompts: a 4,600-token system prompt plus the turn.
  const big = fidelity({ ...base, nodes: 4, sync: true, systemTokens: 4600, durationMs: quick ? 30_000 : 60_000 });
  const bytesPerRequestPerPeer = Math.round(big.bytesOut / big.requests / 3);
  process.stderr.write(`[bench mesh] bytes: ${big.bytesOut} B for ${big.requests} requests on 4 nodes\n`);
  const stale = await measureStaleness(samples);
  const snapshotMs = bootstrap(100_000);
  return {
    hit_rate: hit,
    hit_rate_nosync: hitNoSync,
    bytes_per_request_per_peer: bytesPerRequestPerPeer,
    ...stale,
    snapshot_100k_ms: snapshotMs,
    fidelity_ratio_8: Math.round((hit[8] / hit[1]) * 1000) / 1000,
  };
}
