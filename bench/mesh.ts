/**
 * `npm run bench -- mesh --json`: does a mesh of N gateways route as well as one?
 * - fidelity: N ∈ {1,2,4,8} gateway nodes in virtual time (the production MeshNode: SWIM + state
 *   sync over the in-memory network) in front of the same 8 MockEngines; a multi-turn chat workload
 *   whose turns go round-robin over the nodes; every node routes with cache_aware on its own view.
 *   Engine hit rate with sync on, and with sync off (each node only knows its own decisions).
 * - bytes: sync bytes on the wire per routed request per peer, for ~20,000-character prompts.
 * - staleness: time from a routing decision on one node until all others hold it (3 gateway
 *   nodes with real UDP/gRPC sockets on loopback, in this process).
 * - bootstrap: wall time for a joiner to receive and apply a 100,000-prefix routing shard.
 */
import { ChatWorkload, MockEngine, type ChatSession } from '@drover/mock-worker';
import { createMeshNode, GrpcSyncTransport, PacketSyncTransport, type MeshNode } from '@drover/mesh';
import { PrefixShards, type TreeOp } from '@drover/radix-tree';
import { createPolicy, type RoutingView, type WorkerView } from '@drover/routing';
import { MemoryNetwork, SeededRng, SystemClock, SystemTimers, VirtualScheduler } from '@drover/runtime';
import { localConfig, UdpTransport } from '@drover/swim';

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
}

function fidelity(opts: FidelityOptions): { hitRate: number; requests: number; bytesOut: number } {
  const sched = new VirtualScheduler();
  const root = new SeededRng(opts.seed);
  const engines = Array.from({ length: ENGINES }, (_, i) => new MockEngine({ clock: sched, timers: sched, rng: root.fork(`engine-${i}`) }, { eosProbability: 0, kvCapacityTokens: 262_144 }));
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

async function staleness(samples: number): Promise<{ p50: number; p99: number }> {
  const clock = new SystemClock();
  const timers = new SystemTimers();
  const nodes: { mesh: MeshNode<TreeOp>; shards: PrefixShards; close: () => Promise<void> }[] = [];
  const swims: UdpTransport[] = [];
  for (let i = 0; i < 3; i++) swims.push(await UdpTransport.create({ bindHost: '127.0.0.1', bindPort: 0 }));
  for (let i = 0; i < 3; i++) {
    const name = `node-${i}`;
    const shards = new PrefixShards(8_000_000);
    const sync = await GrpcSyncTransport.create({ nodeName: name, bindHost: '127.0.0.1', bindPort: 0, maxFrameBytes: 256 * 1024 });
    const mesh = createMeshNode<TreeOp>({ clock, timers, rng: new SeededRng(name), swimTransport: swims[i], syncTransport: sync, shard: shards }, { nodeName: name, swim: localConfig(name), httpUrl: 'http://127.0.0.1:1' });
    nodes.push({ mesh, shards, close: async () => { mesh.stop(); await sync.close(); swims[i].close(); } });
  }
  nodes.forEach((n, i) => n.mesh.start(i === 0 ? [] : [swims[0].localAddress]));
  const until = async (cond: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!cond() && performance.now() < end) await new Promise((r) => setImmediate(r));
    return cond();
  };
  await until(() => nodes.every((n) => n.mesh.members().filter((m) => m.state === 'alive').length === 3), 10_000);
  const rng = new SeededRng('staleness');
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const origin = nodes[s % 3];
    const seq = Array.from({ length: 64 }, () => rng.int(100_000));
    const t0 = performance.now();
    origin.mesh.appendRouteOp(origin.shards.record(seq, 'w1'));
    const others = nodes.filter((n) => n !== origin);
    await until(() => others.every((n) => n.shards.match(seq).length === 64), 5000);
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5 + rng.int(20)));
  }
  await Promise.all(nodes.map((n) => n.close()));
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(times[Math.floor(times.length / 2)]), p99: r(times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]) };
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

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const quick = args.includes('--quick');
  const base = { seed: 'mesh-bench', durationMs: quick ? 60_000 : 180_000, sessionsPerSec: 5, systemTokens: 2048 };
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
  const stale = await staleness(quick ? 50 : 200);
  process.stderr.write(`[bench mesh] staleness p50 ${stale.p50} ms, p99 ${stale.p99} ms\n`);
  const snapshotMs = bootstrap(100_000);
  return {
    hit_rate: hit,
    hit_rate_nosync: hitNoSync,
    bytes_per_request_per_peer: bytesPerRequestPerPeer,
    staleness_p50_ms: stale.p50,
    staleness_p99_ms: stale.p99,
    snapshot_100k_ms: snapshotMs,
    fidelity_ratio_8: Math.round((hit[8] / hit[1]) * 1000) / 1000,
  };
}
