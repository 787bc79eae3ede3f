import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Fault } from '../faults';
import type { InvariantResult } from '../report';
import type { VirtualResult } from '../virtual/run-virtual';
import { seededRandom } from './link-faults';
import { MeshNet, type NetSnapshot } from './mesh-net';
import { FalsePositiveWatch, meshStatus, type ExcuseWindow, type MeshStatusView } from './observe';
import { SIM_ADMIN_KEY, SIM_AUTH } from './sim-keys';

export interface ProcessOptions {
  nodes: number;
  workers: number;
  durationMs: number;
  seed: string;
  rps: number;
  faults: Fault[];
}

export interface ProcessResult extends VirtualResult {
  /** What the fault proxies carried, per directed link `from>to` and in total. */
  proxy: NetSnapshot;
  /** Per partition: until every live node saw every node across the cut not alive. */
  partitionDetectionMs: number[];
  /** Per heal: until membership and state agreed again on every live node. */
  healMs: number[];
}

/** The compiled tree (this file runs from dist/mesh-sim/process, or from source under vitest). */
const DIST = existsSync(join(__dirname, '../../src/main.js')) ? join(__dirname, '../..') : join(__dirname, '../../dist');
export const MAX_GATEWAYS = 9;
/** Probe period of `--mesh-timings local`. */
const PROBE_MS = 200;
const SETTLE_MS = 30_000;
const GATEWAY_READY = /"url":"(http:\/\/[^"]+)"[^\n]*gateway listening/;
const WORKER_READY = /(grpc:\/\/\S+)\nready/;

/** Gateway processes a run needs: the initial nodes plus every joiner. */
export function processSlots(nodes: number, faults: Fault[]): number {
  let slots = nodes;
  for (const f of faults) if (f.kind === 'join') slots = Math.max(slots, Number(f.target.split('-')[1]) + 1);
  return slots;
}

/** Why process mode cannot run these faults (checked up front: exit code 2), or undefined. */
export function unsupportedInProcessMode(faults: Fault[], nodes: number): string | undefined {
  const joined = new Set<string>();
  for (const f of faults) {
    if (f.kind !== 'join') continue;
    if (Number(f.target.split('-')[1]) < nodes) return `'join ${f.target}': ${f.target} is already in the cluster; a joiner is a new node (node-${nodes} or above)`;
    if (joined.has(f.target)) return `'join ${f.target}' appears twice`;
    joined.add(f.target);
  }
  const slots = processSlots(nodes, faults);
  if (slots > MAX_GATEWAYS) return `process mode runs at most ${MAX_GATEWAYS} gateway processes on this machine (this run needs ${slots})`;
  return undefined;
}

async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => tcp.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

interface Proc {
  name: string;
  args: string[];
  child?: ChildProcess;
  url?: string;
  alive: boolean;
  paused: boolean;
  /** Process actions on this node/worker (kill, restart, stop) run one at a time, in order. */
  lock?: Promise<void>;
}

/** Runs `fn` after every earlier action on `p` finished (a restart never overlaps a kill or another start). */
function serial(p: Proc, fn: () => Promise<void> | void): Promise<void> {
  const run = (p.lock ?? Promise.resolve()).then(fn);
  p.lock = run.catch(() => undefined);
  return run;
}

/** Set by runProcess: records every child it spawns. */
let launched: ((c: ChildProcess) => void) | undefined;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Spawns `p` and resolves once its stdout matches `ready`; `onLine` sees every stdout line. */
function launch(p: Proc, ready: RegExp, hooks: { onSpawn?: (c: ChildProcess) => void; onLine?: (line: string) => void } = {}): Promise<void> {
  const child = spawn(process.execPath, p.args, { stdio: ['ignore', 'pipe', 'ignore'] });
  launched?.(child);
  p.child = child;
  p.url = undefined;
  hooks.onSpawn?.(child);
  let head = '';
  let partial = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${p.name} did not start`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      if (hooks.onLine) {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        if (partial.length > 65_536) partial = '';
        for (const line of lines) hooks.onLine(line);
      }
      if (p.url) return;
      head += text;
      const m = head.match(ready);
      if (m) {
        p.url = m[1];
        p.alive = true;
        head = '';
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      if (p.child === child) p.alive = false;
      clearTimeout(timer);
      reject(new Error(`${p.name} exited`));
    });
  });
}

function exited(c: ChildProcess | undefined, ms: number): Promise<boolean> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    c.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Real gateway and mock-worker processes on loopback, every byte between gateways through
 * mesh-sim's fault proxies (see mesh-net.ts), signals as node faults (SIGKILL, SIGSTOP/SIGCONT,
 * SIGTERM, restart, join, rolling restart, churn) and proxy rules as network faults (partition,
 * loss, delay); an HTTP load through random live gateways; invariants read from `/mesh/status`,
 * the gateways' membership logs and the load. Every process it started is killed at the end.
 */
export async function runProcess(opts: ProcessOptions): Promise<ProcessResult> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const timeline: { t_ms: number; event: string }[] = [];
  const log = (event: string) => timeline.push({ t_ms: Math.round(now()), event });
  const workers: Proc[] = [];
  const gateways: Proc[] = [];
  const all = () => [...workers, ...gateways];
  // Every child ever spawned (not only each name's latest), so nothing can outlive the run.
  const spawned = new Set<ChildProcess>();
  const cleanup = () => {
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    all().forEach((p) => p.child?.kill('SIGKILL'));
  };
  process.once('exit', cleanup);
  launched = (c) => {
    spawned.add(c);
    c.once('exit', () => spawned.delete(c));
  };
  let net: MeshNet | undefined;
  let polling = true;
  let poller: Promise<void> = Promise.resolve();
  const timers: NodeJS.Timeout[] = [];
  try {
    for (let i = 0; i < opts.workers; i++) {
      const port = await freePort();
      const w: Proc = { name: `worker-${i}`, args: [join(DIST, 'libs/mock-worker/src/cli.js'), '--port', String(port), '--decode-base-ms', '5', '--eos-probability', '0'], alive: false, paused: false };
      await launch(w, WORKER_READY);
      workers.push(w);
    }
    const slots = processSlots(opts.nodes, opts.faults);
    const meshNet = (net = await MeshNet.create(slots, opts.seed));
    const initial = Array.from({ length: opts.nodes }, (_, i) => `node-${i}`);
    // A fresh cluster key per run (keys are 32 random bytes; the seed only drives the simulation).
    const key = randomBytes(32).toString('base64');
    for (let i = 0; i < slots; i++) {
      const name = `node-${i}`;
      gateways.push({
        name,
        args: [join(DIST, 'src/main.js'), '--port', '0', '--node-name', name, '--worker-urls', workers.map((w) => w.url).join(','), '--mesh', ...meshNet.meshArgs(name, initial), '--mesh-key', key, '--mesh-timings', 'local', '--ttft-timeout-ms', '2000', '--admin-key', SIM_ADMIN_KEY],
        alive: false,
        paused: false,
      });
    }
    const live = () => gateways.filter((g) => g.alive && !g.paused);
    // Fault times count from the start of the load (before it, events get t = −1).
    const load = { start: Number.POSITIVE_INFINITY };
    const t = () => (Number.isFinite(load.start) ? now() - load.start : -1);
    const graceMs = 10 * Math.ceil(Math.log2(slots + 1)) * PROBE_MS;
    const watch = new FalsePositiveWatch(graceMs, (n) => live().some((g) => g.name === n));
    const startGateway = async (g: Proc) => {
      watch.forget(g.name);
      await launch(g, GATEWAY_READY, {
        onSpawn: (c) => meshNet.setPid(g.name, c.pid),
        onLine: (line) => {
          if (!line.includes('"mesh membership"')) return;
          try {
            const j = JSON.parse(line) as { member?: string; event?: string };
            if (j.member && j.event) watch.onEvent(g.name, j.member, j.event, t());
          } catch {
            // not a JSON log line
          }
        },
      });
    };
    for (const name of initial) await startGateway(gateways[Number(name.split('-')[1])]);
    log(`${opts.nodes} gateway and ${opts.workers} worker processes started; mesh traffic through ${slots * 3} proxy ports on 127.77.0.0/24`);

    const statuses = async (): Promise<(MeshStatusView | undefined)[]> => Promise.all(live().map((g) => meshStatus(g.url!)));
    const agrees = async () => {
      const truth = new Set(live().map((g) => g.name));
      const views = await statuses();
      return views.every((v) => v && v.members.filter((m) => m.state === 'alive').length === truth.size && v.members.every((m) => m.state !== 'alive' || truth.has(m.name)));
    };
    const stateView = async () => {
      const views = await statuses();
      const registry = new Set(views.map((v) => v?.digest?.registry));
      const shards = new Set(views.map((v) => v?.digest?.shards));
      const ok = views.length > 0 && views.every((v) => v?.digest) && registry.size === 1 && shards.size === 1;
      return { ok, registry: [...registry].map(String), shards: [...shards].map(String), n: views.length };
    };
    const until = async (cond: () => Promise<boolean>, ms: number) => {
      const end = now() + ms;
      while (now() < end) {
        if (await cond()) return true;
        await sleep(100);
      }
      return false;
    };
    if (!(await until(agrees, 15_000))) log('initial membership did not converge');
    poller = (async () => {
      while (polling) {
        const targets = live();
        const views = await Promise.all(targets.map((g) => meshStatus(g.url!)));
        const at = t();
        views.forEach((v, i) => v && watch.onStatus(targets[i].name, v, at));
        await sleep(250);
      }
    })();

    // ---- faults ----
    load.start = now();
    const start = load.start;
    const actions = new Set<Promise<void>>();
    const at = (ms: number, fn: () => void | Promise<void>) =>
      timers.push(
        setTimeout(() => {
          const p = Promise.resolve()
            .then(fn)
            .catch((e: Error) => void log(`fault action failed: ${e.message}`));
          actions.add(p);
          void p.finally(() => actions.delete(p));
        }, ms),
      );
    const proc = (n: string) => (n.startsWith('node-') ? gateways : workers)[Number(n.split('-')[1])];
    const detection: number[] = [];
    const partitionSeen: number[] = [];
    const healed: number[] = [];
    const signal = (p: Proc, s: NodeJS.Signals) => p.child?.kill(s);
    // Excuse windows of kills and stops are open until the node is back.
    const open = new Map<string, ExcuseWindow>();
    const excuseFrom = (node: string) => {
      if (!open.has(node)) open.set(node, watch.excuse(node, t(), Number.POSITIVE_INFINITY));
    };
    const excuseEnd = (node: string) => {
      const w = open.get(node);
      if (w) w.toMs = t();
      open.delete(node);
    };
    const kill = async (p: Proc) => {
      let killed = false;
      await serial(p, () => {
        if (!p.alive) return;
        signal(p, 'SIGKILL');
        p.alive = false;
        p.paused = false;
        killed = true;
        log(`SIGKILL ${p.name}`);
        if (p.name.startsWith('node-')) excuseFrom(p.name);
      });
      if (!killed || !p.name.startsWith('node-')) return;
      const t1 = now();
      if (await until(async () => (await statuses()).every((v) => v?.members.some((m) => m.name === p.name && m.state === 'dead')), 30_000)) {
        detection.push(Math.round(now() - t1));
        log(`all live nodes see ${p.name} dead (${Math.round(now() - t1)} ms)`);
      }
    };
    const restart = (p: Proc, why = 'restarted') =>
      serial(p, async () => {
        if (p.alive) return;
        if (!(await exited(p.child, 5000))) signal(p, 'SIGKILL');
        await exited(p.child, 2000);
        if (p.name.startsWith('node-')) {
          excuseFrom(p.name);
          await startGateway(p);
          excuseEnd(p.name);
        } else await launch(p, WORKER_READY);
        log(`${why} ${p.name}`);
      });
    const gracefulStop = (p: Proc) =>
      serial(p, async () => {
        if (!p.alive) return;
        excuseFrom(p.name);
        if (p.paused) signal(p, 'SIGCONT');
        signal(p, 'SIGTERM');
        p.alive = false;
        p.paused = false;
        log(`SIGTERM ${p.name}`);
        if (!(await exited(p.child, 10_000))) signal(p, 'SIGKILL');
      });
    let lastFault = 0;
    const network: string[] = [];
    for (const f of opts.faults) {
      const ends =
        f.kind === 'rolling-restart' ? f.fromMs + slots * f.everyMs : 'toMs' in f && Number.isFinite(f.toMs) ? f.toMs : 'atMs' in f ? f.atMs : 'fromMs' in f ? f.fromMs : 0;
      lastFault = Math.max(lastFault, ends);
      if (f.kind === 'kill') {
        at(f.atMs, () => kill(proc(f.target)));
      } else if (f.kind === 'restart') {
        at(f.atMs, () => restart(proc(f.target)));
      } else if (f.kind === 'join') {
        at(f.atMs, () => {
          const p = proc(f.target);
          return serial(p, async () => {
            excuseFrom(p.name);
            await startGateway(p);
            excuseEnd(p.name);
            log(`joined ${p.name} (new gateway process)`);
          });
        });
      } else if (f.kind === 'leave') {
        at(f.atMs, () => gracefulStop(proc(f.target)));
      } else if (f.kind === 'rolling-restart') {
        for (let i = 0; i < slots; i++) {
          at(f.fromMs + i * f.everyMs, async () => {
            const p = gateways[i];
            if (!p.alive) return;
            await gracefulStop(p);
            await restart(p, 'rolling restart:');
          });
        }
      } else if (f.kind === 'churn') {
        const rnd = seededRandom(`${opts.seed}:churn`);
        let down: Proc[] = [];
        // Churn steps run in order even when a restart outlasts the period.
        let chain = Promise.resolve();
        const step = (fn: () => Promise<void>) => (chain = chain.then(fn));
        for (let tm = f.fromMs; tm < f.toMs; tm += f.everyMs) {
          at(tm, () => step(async () => {
            await Promise.all(down.map((p) => restart(p, 'churn: restarted')));
            const candidates = gateways.filter((g) => g.alive && !g.paused && g.name !== 'node-0');
            for (let i = candidates.length - 1; i > 0; i--) {
              const j = Math.floor(rnd() * (i + 1));
              [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
            }
            down = candidates.slice(0, Math.max(1, Math.round(candidates.length * f.fraction)));
            // The kill is quick; its detection figure is measured meanwhile, off the chain.
            for (const p of down) void kill(p);
            await Promise.all(down.map((p) => p.lock));
          }));
        }
        at(f.toMs, () => step(async () => {
          await Promise.all(down.map((p) => restart(p, 'churn: restarted')));
          down = [];
        }));
      } else if (f.kind === 'partition' || f.kind === 'loss' || f.kind === 'delay') {
        const what =
          f.kind === 'partition'
            ? `partition ${f.groups.map((g) => g.join(',')).join(' | ')}`
            : f.kind === 'loss'
              ? `loss ${Math.round(f.rate * 1000) / 10}% on ${f.target ? `${f.target}'s links` : 'every link'}`
              : `delay ${f.meanMs}ms~${f.jitterMs}ms on ${f.target ? `${f.target}'s links` : 'every link'}`;
        network.push(what);
        if (f.kind === 'partition') for (const n of f.groups.flat()) watch.excuse(n, f.fromMs, f.toMs);
        let heal: (() => void) | undefined;
        at(f.fromMs, async () => {
          heal = meshNet.inject(f);
          log(`proxy: ${what}`);
          if (f.kind !== 'partition') return;
          // Detection of a partition: every live node marks every node across the cut not alive.
          const t1 = now();
          const side = (n: string) => (f.groups[0].includes(n) ? 0 : f.groups[1].includes(n) ? 1 : -1);
          const cutSeen = async () => {
            const targets = live();
            const views = await Promise.all(targets.map((g) => meshStatus(g.url!)));
            return views.every((v, i) => {
              const mine = side(targets[i].name);
              return v !== undefined && (mine < 0 || v.members.every((m) => side(m.name) !== 1 - mine || m.state !== 'alive'));
            });
          };
          if (await until(cutSeen, Math.max(0, f.toMs - (now() - start)))) {
            partitionSeen.push(Math.round(now() - t1));
            log(`both sides see the partition (${Math.round(now() - t1)} ms)`);
          }
        });
        if (Number.isFinite(f.toMs)) {
          at(f.toMs, async () => {
            heal?.();
            log(`proxy: healed ${what}`);
            const t1 = now();
            if (await until(async () => (await agrees()) && (await stateView()).ok, SETTLE_MS)) {
              healed.push(Math.round(now() - t1));
              log(`membership and state agree again ${Math.round(now() - t1)} ms after the heal`);
            } else log(`no agreement within ${SETTLE_MS / 1000} s of the heal`);
          });
        }
      } else if (f.kind === 'pause' || f.kind === 'flap' || f.kind === 'stall') {
        // pause, flap (gateways) and stall (workers): SIGSTOP / SIGCONT
        const every = f.kind === 'flap' ? f.everyMs : f.toMs - f.fromMs;
        if (f.target.startsWith('node-')) watch.excuse(f.target, f.fromMs, f.toMs);
        for (let tm = f.fromMs, on = true; tm < f.toMs; tm += every, on = !on) {
          const stop = on;
          at(tm, () => {
            const p = proc(f.target);
            if (!p.alive) return;
            signal(p, stop ? 'SIGSTOP' : 'SIGCONT');
            p.paused = stop;
            log(`${stop ? 'SIGSTOP' : 'SIGCONT'} ${p.name}`);
          });
        }
        at(f.toMs, () => {
          const p = proc(f.target);
          if (!p.paused) return;
          signal(p, 'SIGCONT');
          p.paused = false;
          log(`SIGCONT ${p.name}`);
        });
      }
    }

    // ---- load ----
    const requests = { sent: 0, ok: 0, failed: 0, expected_failures: 0, lost: 0 };
    let cached = 0;
    let prompt = 0;
    const inflight = new Set<Promise<void>>();
    let next = 0;
    while (opts.rps > 0 && now() - start < opts.durationMs) {
      const targets = live();
      if (targets.length > 0) {
        const g = targets[next++ % targets.length];
        const epochAtSend = g.child;
        requests.sent++;
        const p = (async () => {
          try {
            const res = await fetch(`${g.url}/v1/chat/completions`, {
              method: 'POST',
              headers: { ...SIM_AUTH, 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'system', content: `group ${next % 8} `.repeat(200) }, { role: 'user', content: `q ${next}` }], max_tokens: 8 }),
              signal: AbortSignal.timeout(10_000),
            });
            const body = (await res.json()) as { usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } };
            if (res.status === 200) {
              requests.ok++;
              prompt += body.usage?.prompt_tokens ?? 0;
              cached += body.usage?.prompt_tokens_details?.cached_tokens ?? 0;
            } else throw new Error(String(res.status));
          } catch {
            requests.failed++;
            // A request on a gateway that was killed, stopped or restarted meanwhile could not be saved.
            if (!g.alive || g.paused || g.child !== epochAtSend) requests.expected_failures++;
            else requests.lost++;
          }
        })();
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await sleep(1000 / opts.rps);
    }
    if (opts.rps <= 0) await sleep(opts.durationMs);
    await Promise.all(inflight);
    await sleep(Math.max(0, lastFault - (now() - start)) + 500);
    // Fault actions still running (a restart waits for its process to be ready) finish first.
    const actionsDeadline = now() + 40_000;
    while (actions.size > 0 && now() < actionsDeadline) await Promise.race([Promise.all(actions), sleep(500)]);
    timers.forEach(clearTimeout);
    for (const g of gateways.filter((x) => x.paused)) {
      signal(g, 'SIGCONT');
      g.paused = false;
    }

    // ---- settle: membership and state must agree on every live node ----
    const settleStart = now();
    let state = await stateView();
    const converged = await until(async () => (await agrees()) && (state = await stateView()).ok, SETTLE_MS);
    const settleMs = converged ? Math.round(now() - settleStart) : null;
    // Convergence: after the last heal when there was one (measured then), else once the load ended.
    const convergenceMs = converged ? (healed.length > 0 ? healed[healed.length - 1] : settleMs) : null;
    if (!converged) state = await stateView();
    polling = false;
    await poller;
    const finalViews = await statuses();
    const addresses = finalViews.flatMap((v) => v?.members.filter((m) => m.state === 'alive').map((m) => m.address) ?? []);
    const direct = addresses.filter((a) => !meshNet.isProxyAddress(a));
    const proxy = meshNet.snapshot();
    log(`proxy carried ${proxy.total.udp_forwarded} datagrams (${proxy.total.udp_lost} lost, ${proxy.total.udp_partitioned} cut) and ${proxy.total.tcp_connections} TCP connections (${proxy.total.tcp_refused} refused, ${proxy.total.tcp_reset} reset)`);
    const n = live().length;
    const invariants: Record<string, InvariantResult> = {
      membership_agreement: { ok: converged || (await agrees()), detail: converged ? `all ${n} live processes agree (${healed.length > 0 ? `${healed.join(', ')} ms after each heal; ` : ''}${settleMs} ms into the settle after the load)` : `no agreement within ${SETTLE_MS / 1000} s` },
      no_false_positives: {
        ok: watch.found.length === 0,
        detail: watch.found.length === 0 ? `no live, unfaulted node was declared dead (${watch.declarations} declarations, all of faulted nodes; grace ${graceMs} ms)` : watch.found.slice(0, 3).join('; '),
      },
      state_convergence: {
        ok: state.ok,
        detail: state.ok ? `registry ${state.registry[0].slice(0, 12)} and shard versions ${state.shards[0].slice(0, 12)} equal on all ${state.n} live nodes` : `${state.registry.length} registry and ${state.shards.length} shard digests among ${state.n} live nodes`,
      },
      no_lost_requests: { ok: requests.lost === 0, detail: `${requests.lost} lost of ${requests.sent} (expected failures ${requests.expected_failures})` },
      mesh_traffic_proxied: {
        ok: direct.length === 0 && proxy.unidentified.udp + proxy.unidentified.tcp === 0 && proxy.total.udp_forwarded > 0,
        detail:
          direct.length > 0
            ? `peers reachable outside the proxy: ${direct.slice(0, 3).join(', ')}`
            : `every member address is a proxy address; ${proxy.total.udp_forwarded} datagrams, ${proxy.total.tcp_connections} TCP connections through the proxy, ${proxy.unidentified.udp + proxy.unidentified.tcp} unattributed (${proxy.unidentified.tcp_closed} closed before accept)${network.length ? `; faults: ${network.join('; ')}` : ''}`,
      },
    };
    return {
      invariants,
      requests,
      detectionMs: detection,
      convergenceMs,
      hitRate: prompt > 0 ? Math.round((cached / prompt) * 1000) / 1000 : 0,
      timeline,
      heapMb: Math.round(process.memoryUsage().heapUsed / 1048576),
      proxy,
      partitionDetectionMs: partitionSeen,
      healMs: healed,
    };
  } finally {
    polling = false;
    timers.forEach(clearTimeout);
    cleanup();
    await Promise.race([poller, sleep(2000)]);
    net?.close();
    launched = undefined;
    process.removeListener('exit', cleanup);
  }
}
