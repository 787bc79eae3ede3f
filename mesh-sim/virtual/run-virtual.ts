import { ChatWorkload, MockEngine, type ChatSession } from '@drover/mock-worker';
import { createPolicy, type RoutingView, type WorkerView } from '@drover/routing';
import { MemoryNetwork, SeededRng, VirtualScheduler } from '@drover/runtime';
import type { Fault } from '../faults';
import { percentile, type InvariantResult } from '../report';
import { SimGateway } from './sim-gateway';

export interface VirtualOptions {
  nodes: number;
  workers: number;
  durationMs: number;
  seed: string;
  /** Requests (turns) per second offered by clients. */
  rps: number;
  faults: Fault[];
  plantedBugs?: { noRefutation?: boolean; dropRouteOps?: boolean };
}

/** Above this many nodes the simulation runs SWIM alone: full-mesh state sync is O(n²). */
export const MEMBERSHIP_ONLY_ABOVE = 50;

export interface VirtualResult {
  invariants: Record<string, InvariantResult>;
  requests: { sent: number; ok: number; failed: number; expected_failures: number; lost: number };
  detectionMs: number[];
  convergenceMs: number | null;
  hitRate: number;
  timeline: { t_ms: number; event: string }[];
  heapMb: number;
  /** Routing-shard anti-entropy: digest bytes sent per live node per second, and repairs asked for. */
  antiEntropy?: { bytesPerSecPerNode: number; snapshotRepairs: number; resendRepairs: number; mismatches: number };
}

const TTFT_TIMEOUT_MS = 3000;
const MAX_ATTEMPTS = 3;
const SETTLE_MS = 60_000;
/** After the settle: how long requests and sync may take to go quiet before the state is compared. */
const QUIESCE_MS = 30_000;
/**
 * Once quiet: how long anti-entropy has to repair a replica that holds the right version with the
 * wrong content (digests go round every ~5 s; a mismatch seen twice is re-snapshotted).
 */
const ANTI_ENTROPY_WINDOW_MS = 30_000;

/**
 * Runs N gateway nodes (the production MeshNode: SWIM + state sync + routing state) and M
 * simulated engines on one VirtualScheduler with the in-memory network, offers a multi-turn chat
 * load through random live nodes, applies the faults, and checks the invariants. Deterministic:
 * the same options give the same run.
 */
export function runVirtual(opts: VirtualOptions): VirtualResult {
  const sched = new VirtualScheduler();
  const root = new SeededRng(opts.seed);
  const swimNet = new MemoryNetwork({ clock: sched, timers: sched, rng: root.fork('swim-net') }, { delayMs: 0.5, jitterMs: 0.5, loss: 0 });
  const syncNet = new MemoryNetwork({ clock: sched, timers: sched, rng: root.fork('sync-net') }, { delayMs: 0.5, jitterMs: 0.5, loss: 0 });
  const timeline: { t_ms: number; event: string }[] = [];
  const log = (event: string) => timeline.push({ t_ms: Math.round(sched.now()), event });
  const maxIndex = Math.max(opts.nodes, ...opts.faults.filter((f) => f.kind === 'join').map((f) => Number((f as { target: string }).target.split('-')[1]) + 1));
  const gateways = Array.from({ length: maxIndex }, (_, i) => new SimGateway(i, `node-${i}`, sched, root.fork('gateways'), swimNet, syncNet, opts.plantedBugs ?? {}, maxIndex > MEMBERSHIP_ONLY_ABOVE));
  const engines = Array.from({ length: opts.workers }, (_, i) => new MockEngine({ clock: sched, timers: sched, rng: root.fork(`engine-${i}`) }, { eosProbability: 0, kvCapacityTokens: 262_144 }));
  const workerAlive = engines.map(() => true);
  const inFlight = engines.map(() => 0);
  const workerViews: WorkerView[] = engines.map((_, i) => ({
    id: `worker-${i}`,
    get healthy() {
      return workerAlive[i];
    },
    circuitOpen: false,
    inFlight: () => inFlight[i],
    load: () => undefined,
  }));
  const policy = createPolicy('cache_aware', { balanceAbsThreshold: 2 }, { clock: sched });
  const liveSeeds = () => gateways.filter((g) => g.alive).map((g) => g.swimAddress);

  // Membership observation: first suspicion / death of each subject, for detection figures.
  const killedAt = new Map<string, number>();
  const detectionMs: number[] = [];
  const falsePositives: string[] = [];
  const affected = new Set<string>(); // nodes a fault touched (killed, paused, partitioned, left)
  const watch = (g: SimGateway) =>
    g.mesh.onMemberEvent((e) => {
      if (e.type !== 'dead') return;
      const subject = gateways.find((x) => x.name === e.member.name);
      if (subject && subject.alive && !subject.paused && !affected.has(subject.name) && !affected.has(g.name)) {
        falsePositives.push(`${g.name} declared ${subject.name} dead at ${Math.round(sched.now())} ms`);
      }
    });

  for (let i = 0; i < opts.nodes; i++) {
    gateways[i].start(i === 0 ? [] : [gateways[0].swimAddress]);
    watch(gateways[i]);
  }
  sched.advance(5000);
  log(`mesh of ${opts.nodes} nodes formed: ${gateways.filter((g) => g.alive && g.aliveView().size === opts.nodes).length}/${opts.nodes} agree`);

  // ---- faults ----
  let lastFaultEnd = 0;
  const at = (t: number, fn: () => void) => {
    lastFaultEnd = Math.max(lastFaultEnd, t);
    sched.setTimeout(fn, Math.max(0, t + 5000 - sched.now()));
  };
  const byName = (n: string) => gateways[Number(n.split('-')[1])];
  const restart = (g: SimGateway) => {
    if (g.alive) return;
    g.start(liveSeeds());
    watch(g);
    log(`restart ${g.name}`);
  };
  const kill = (g: SimGateway) => {
    if (!g.alive) return;
    g.crash();
    affected.add(g.name);
    killedAt.set(g.name, sched.now());
    log(`kill ${g.name}`);
  };
  const isolate = (g: SimGateway, on: boolean) => {
    const others = gateways.filter((x) => x !== g).map((x) => x.swimAddress);
    for (const net of [swimNet, syncNet]) {
      for (const o of others) {
        const a = net === swimNet ? g.swimAddress : g.syncAddress;
        const b = net === swimNet ? o : o.replace(':7946', ':7947');
        net.setLink(a, b, { loss: on ? 1 : 0 });
        net.setLink(b, a, { loss: on ? 1 : 0 });
      }
    }
  };
  for (const f of opts.faults) {
    switch (f.kind) {
      case 'kill':
        if (f.target.startsWith('node-')) at(f.atMs, () => kill(byName(f.target)));
        else at(f.atMs, () => ((workerAlive[Number(f.target.split('-')[1])] = false), log(`kill ${f.target}`)));
        break;
      case 'restart':
        if (f.target.startsWith('node-')) at(f.atMs, () => restart(byName(f.target)));
        else at(f.atMs, () => ((workerAlive[Number(f.target.split('-')[1])] = true), log(`restart ${f.target}`)));
        break;
      case 'join':
        at(f.atMs, () => restart(byName(f.target)));
        break;
      case 'leave':
        at(f.atMs, () => {
          const g = byName(f.target);
          affected.add(g.name);
          g.leave();
          log(`leave ${g.name}`);
        });
        break;
      case 'partition': {
        const addrs = (net: 'swim' | 'sync') => f.groups.map((grp) => grp.map((n) => (net === 'swim' ? byName(n).swimAddress : byName(n).syncAddress)));
        at(f.fromMs, () => {
          // Every node is on some side of a cut: nodes named on neither side form a third side,
          // cut off from both (the network's unlisted group), so they are touched as much.
          gateways.forEach((g) => affected.add(g.name));
          swimNet.partition(...addrs('swim'));
          syncNet.partition(...addrs('sync'));
          log(`partition ${f.groups.map((g) => g.join(',')).join(' | ')}`);
        });
        at(f.toMs, () => {
          swimNet.heal();
          syncNet.heal();
          log('heal partition');
        });
        break;
      }
      case 'loss':
      case 'delay': {
        const cond = f.kind === 'loss' ? { loss: f.rate } : { delayMs: f.meanMs, jitterMs: f.jitterMs };
        const reset = f.kind === 'loss' ? { loss: 0 } : { delayMs: 0.5, jitterMs: 0.5 };
        const apply = (c: object) => {
          if (!f.target) {
            swimNet.setDefaultLink(c);
            syncNet.setDefaultLink(c);
          } else {
            const g = byName(f.target);
            for (const o of gateways.filter((x) => x !== g)) {
              swimNet.setLink(g.swimAddress, o.swimAddress, c);
              swimNet.setLink(o.swimAddress, g.swimAddress, c);
              syncNet.setLink(g.syncAddress, o.syncAddress, c);
              syncNet.setLink(o.syncAddress, g.syncAddress, c);
            }
          }
        };
        at(f.fromMs, () => (apply(cond), log(`${f.kind} ${JSON.stringify(cond)}${f.target ? ` on ${f.target}` : ''}`)));
        if (Number.isFinite(f.toMs)) at(f.toMs, () => (apply(reset), log(`${f.kind} ends`)));
        break;
      }
      case 'stall': {
        const e = engines[Number(f.target.split('-')[1])];
        at(f.fromMs, () => ((e.config.prefillTokensPerSec = 0.001), log(`stall ${f.target}`)));
        at(f.toMs, () => ((e.config.prefillTokensPerSec = 8000), log(`unstall ${f.target}`)));
        break;
      }
      case 'pause':
        at(f.fromMs, () => {
          const g = byName(f.target);
          affected.add(g.name);
          g.paused = true;
          isolate(g, true);
          log(`pause ${g.name}`);
        });
        at(f.toMs, () => {
          const g = byName(f.target);
          g.paused = false;
          isolate(g, false);
          log(`resume ${g.name}`);
        });
        break;
      case 'flap':
        for (let t = f.fromMs, on = true; t < f.toMs; t += f.everyMs, on = !on) {
          const pauseNow = on;
          at(t, () => {
            const g = byName(f.target);
            affected.add(g.name);
            g.paused = pauseNow;
            isolate(g, pauseNow);
            log(`${pauseNow ? 'pause' : 'resume'} ${g.name}`);
          });
        }
        at(f.toMs, () => {
          const g = byName(f.target);
          g.paused = false;
          isolate(g, false);
        });
        break;
      case 'rolling-restart':
        for (let i = 0; i < opts.nodes; i++) {
          at(f.fromMs + i * f.everyMs, () => kill(byName(`node-${i}`)));
          at(f.fromMs + i * f.everyMs + 1000, () => restart(byName(`node-${i}`)));
        }
        break;
      case 'churn': {
        let down: SimGateway[] = [];
        const rng = root.fork('churn');
        for (let t = f.fromMs; t < f.toMs; t += f.everyMs) {
          at(t, () => {
            down.forEach(restart);
            const live = gateways.filter((g) => g.alive && g.index !== 0);
            down = rng.shuffle(live).slice(0, Math.max(1, Math.round(live.length * f.fraction)));
            down.forEach(kill);
          });
        }
        at(f.toMs, () => {
          down.forEach(restart);
          down = [];
        });
        break;
      }
    }
  }

  // Detection: time from a node's crash until every live node marks it dead.
  const detectTimer = sched.setInterval(() => {
    for (const [name, t] of killedAt) {
      const g = gateways.find((x) => x.name === name)!;
      if (g.alive) {
        killedAt.delete(name);
        continue;
      }
      const observers = gateways.filter((x) => x.alive && !x.paused);
      const allDead = observers.every((o) => o.mesh.members().some((m) => m.name === name && (m.state === 'dead' || m.state === 'left')) || !o.mesh.members().some((m) => m.name === name));
      if (allDead) {
        detectionMs.push(sched.now() - t);
        log(`all live nodes see ${name} dead (${Math.round(sched.now() - t)} ms)`);
        killedAt.delete(name);
      }
    }
  }, 100);

  // ---- load ----
  const workload = new ChatWorkload(root.fork('workload'), { groups: 16, systemTokens: 1024, userTokens: [32, 128], turns: [2, 5], answerTokens: 24 });
  const arrivals = root.fork('arrivals');
  const routeRng = root.fork('route');
  const requests = { sent: 0, ok: 0, failed: 0, expected_failures: 0, lost: 0 };
  let prompt = 0;
  let cached = 0;
  const ready: ChatSession[] = [];
  const start = sched.now();
  const end = start + opts.durationMs;
  const turn = (): void => {
    const clients = gateways.filter((g) => g.alive && !g.paused);
    if (clients.length === 0) return;
    const session = ready.shift() ?? workload.newSession();
    const tokens = session.nextPrompt();
    const g = routeRng.pick(clients);
    requests.sent++;
    const view: RoutingView = { workers: workerViews, match: (t) => g.shards.match(t).perOwner };
    const tried = new Set<string>();
    const lose = (): void => {
      requests.failed++;
      requests.lost++;
    };
    const attempt = (n: number): void => {
      if (!g.alive) {
        requests.failed++;
        requests.expected_failures++;
        return;
      }
      const d = policy.select(view, { tokens, exclude: tried }, routeRng);
      if (!d) {
        requests.failed++;
        requests.lost++;
        return;
      }
      tried.add(d.workerId);
      const w = Number(d.workerId.split('-')[1]);
      if (!workerAlive[w]) {
        // UNAVAILABLE before anything streamed: retry elsewhere, as the gateway does.
        if (n < MAX_ATTEMPTS) return attempt(n + 1);
        requests.failed++;
        requests.lost++;
        return;
      }
      g.mesh.appendRouteOp(g.shards.record(tokens, d.workerId));
      inFlight[w]++;
      // The gateway's own count, published over the mesh load channel (in flight / awaiting first token).
      const tracked = g.track(d.workerId);
      let first = false;
      let done = false;
      const rid = `r${requests.sent}-${n}`;
      const ttft = sched.setTimeout(() => {
        if (first || done) return;
        done = true;
        inFlight[w]--;
        tracked.end();
        engines[w].abort(rid);
        if (n < MAX_ATTEMPTS) attempt(n + 1);
        else lose();
      }, TTFT_TIMEOUT_MS);
      engines[w].submit(
        { requestId: rid, inputIds: tokens, maxNewTokens: 24, ignoreEos: true },
        {
          onTokens: () => {
            if (done) return;
            first = true;
            tracked.first();
            if (!workerAlive[w] || !g.alive) {
              // The worker or the gateway died mid-stream: nothing could save this request.
              done = true;
              inFlight[w]--;
              tracked.end();
              sched.clearTimeout(ttft);
              engines[w].abort(rid);
              requests.failed++;
              requests.expected_failures++;
            }
          },
          onComplete: (res) => {
            if (done) return;
            done = true;
            sched.clearTimeout(ttft);
            inFlight[w]--;
            tracked.end();
            if (res.finishReason === 'abort') return;
            requests.ok++;
            prompt += res.promptTokens;
            cached += res.cachedTokens;
            session.answer(res.outputIds);
            if (session.turnsLeft > 0) ready.push(session);
          },
          onError: () => {
            if (done) return;
            done = true;
            sched.clearTimeout(ttft);
            inFlight[w]--;
            tracked.end();
            if (n < MAX_ATTEMPTS) attempt(n + 1);
            else lose();
          },
        },
      );
    };
    attempt(1);
  };
  const arrive = (): void => {
    if (sched.now() >= end) return;
    turn();
    sched.setTimeout(arrive, arrivals.exponential(1000 / opts.rps));
  };
  if (opts.rps > 0) arrive();

  const live = () => gateways.filter((g) => g.alive && !g.paused);
  const membershipAgrees = () => {
    const truth = new Set(live().map((g) => g.name));
    return live().every((g) => {
      const v = g.aliveView();
      return v.size === truth.size && [...truth].every((n) => v.has(n));
    });
  };
  const stateAgrees = () => {
    const d = live().map((g) => g.mesh.digest());
    return d.every((x) => x.registry === d[0].registry);
  };
  // Convergence: from the last fault event until membership and state agree again.
  let agreedAt: number | undefined;
  const lastFaultAbs = lastFaultEnd + 5000;
  sched.setTimeout(() => {
    const probe = sched.setInterval(() => {
      if (membershipAgrees() && stateAgrees()) {
        agreedAt = sched.now();
        sched.clearInterval(probe);
      }
    }, 100);
  }, Math.max(0, lastFaultAbs - sched.now()));
  sched.runUntilTime(Math.max(end, lastFaultAbs + 5000));
  // ---- settle, then the end-state invariants ----
  const converged = agreedAt !== undefined || sched.runUntil(() => membershipAgrees() && stateAgrees(), SETTLE_MS, 100);
  if (converged && agreedAt === undefined) agreedAt = sched.now();
  const convergenceMs = converged ? Math.round(Math.max(0, agreedAt! - lastFaultAbs)) : null;
  // Quiescence: sync quiet (no new routing op, every node on the same shard versions). Then every
  // live node must hold the same routing shards (content digests per origin) and see, as mesh-wide
  // load, exactly the sum of the live nodes' own counters (zero once nothing is in flight; requests
  // a stalled engine never finishes stay counted, consistently).
  const syncing = !gateways.some((g) => g.membershipOnly);
  const routingAgrees = (): boolean => {
    if (!syncing) return true;
    const origins = live().map((g) => g.name);
    const d = live().map((g) => JSON.stringify(g.routingDigests(origins)));
    return d.every((x) => x === d[0]);
  };
  const digestLoad = (m: Iterable<[string, { inFlight: number; queued: number }]>): string =>
    [...m].filter(([, l]) => l.inFlight !== 0 || l.queued !== 0).map(([id, l]) => `${id}=${l.inFlight}/${l.queued}`).sort().join(',');
  const loadDigest = (g: SimGateway): string => digestLoad(g.mesh.meshLoad());
  const expectedLoad = (): string => {
    const sum = new Map<string, { inFlight: number; queued: number }>();
    for (const g of live()) {
      for (const [id, l] of g.ownLoad()) {
        const acc = sum.get(id) ?? { inFlight: 0, queued: 0 };
        sum.set(id, { inFlight: acc.inFlight + l.inFlight, queued: acc.queued + l.queued });
      }
    }
    return digestLoad(sum);
  };
  const loadAgrees = (): boolean => {
    if (!syncing) return true;
    const want = expectedLoad();
    return live().every((g) => loadDigest(g) === want);
  };
  // Shard versions (a cheap digest) first; tree content digests (hashing whole trees) only once
  // every node holds the same versions, i.e. no op is still on its way.
  const versionsAgree = (): boolean => {
    const d = live().map((g) => g.mesh.digest().shards);
    return d.every((x) => x === d[0]);
  };
  // Tree digests are cached per tree until it changes, so polling them once a virtual second is cheap.
  const quiet =
    sched.runUntil(() => stateAgrees() && loadAgrees() && versionsAgree(), QUIESCE_MS, 100) &&
    sched.runUntil(() => versionsAgree() && routingAgrees(), ANTI_ENTROPY_WINDOW_MS, 1000) &&
    stateAgrees() &&
    loadAgrees();
  const stateDetail = (): string => {
    if (!stateAgrees()) return 'registry digests differ';
    if (!syncing) return 'registry digests equal on every live node (membership only: no routing state)';
    if (!versionsAgree()) return 'routing shard versions differ after quiescence';
    if (!routingAgrees()) {
      const origins = live().map((g) => g.name);
      const differ = origins.filter((o) => new Set(live().map((g) => g.routingDigests([o])[o])).size > 1);
      return `routing shard digests differ after quiescence for origin(s) ${differ.join(', ')}`;
    }
    if (!loadAgrees()) return `mesh-wide load differs from the live nodes' own counters {${expectedLoad()}} after quiescence: ${live().map((g) => `${g.name}{${loadDigest(g)}}`).join(' ')}`;
    const load = expectedLoad();
    return `registry digests, routing shard digests (${live().length} origins) and mesh-wide load (${load === '' ? 'zero' : load}) equal on every live node`;
  };
  sched.clearInterval(detectTimer);
  const antiEntropy = { bytesPerSecPerNode: 0, snapshotRepairs: 0, resendRepairs: 0, mismatches: 0 };
  const rates: number[] = [];
  for (const g of live()) {
    const s = g.antiEntropy();
    if (!s) continue;
    rates.push(s.bytesOut / Math.max(1, (sched.now() - g.startedAtMs) / 1000));
    antiEntropy.snapshotRepairs += s.snapshotRequests;
    antiEntropy.resendRepairs += s.resendRequests;
    antiEntropy.mismatches += s.mismatches;
  }
  antiEntropy.bytesPerSecPerNode = rates.length ? Math.round((rates.reduce((a, b) => a + b, 0) / rates.length) * 10) / 10 : 0;
  for (const g of gateways) if (g.alive) g.mesh.stop();

  const heapMb = Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
  const n = live().length;
  const periods = Math.ceil(Math.log2(n + 1)) * 10;
  const invariants: Record<string, InvariantResult> = {
    membership_agreement: { ok: converged && membershipAgrees(), detail: converged ? `all ${n} live nodes agree ${convergenceMs} ms after the last fault (bound ${periods} probe periods)` : `no agreement within ${SETTLE_MS} ms of the last fault` },
    no_false_positives: { ok: falsePositives.length === 0, detail: falsePositives.length === 0 ? 'no live, unaffected node was declared dead' : falsePositives.slice(0, 3).join('; ') },
    state_convergence: { ok: quiet, detail: stateDetail() },
    no_lost_requests: { ok: requests.lost === 0, detail: `${requests.lost} lost of ${requests.sent} (expected failures ${requests.expected_failures})` },
    memory: { ok: heapMb < 2048, detail: `${heapMb} MB heap` },
  };
  if (convergenceMs !== null && convergenceMs > periods * 1000) {
    invariants.membership_agreement = { ok: false, detail: `agreement took ${convergenceMs} ms, above ${periods} probe periods` };
  }
  return { invariants, requests, detectionMs, convergenceMs, hitRate: prompt > 0 ? Math.round((cached / prompt) * 1000) / 1000 : 0, timeline, heapMb, antiEntropy };
}

export { percentile };
