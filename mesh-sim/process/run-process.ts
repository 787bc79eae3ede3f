import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault } from '../faults';
import type { InvariantResult } from '../report';
import type { VirtualResult } from '../virtual/run-virtual';

export interface ProcessOptions {
  nodes: number;
  workers: number;
  durationMs: number;
  seed: string;
  rps: number;
  faults: Fault[];
}

/** The compiled tree (this file runs from dist/mesh-sim/process, or from source under vitest). */
const DIST = existsSync(join(__dirname, '../../src/main.js')) ? join(__dirname, '../..') : join(__dirname, '../../dist');
const NETWORK_FAULTS = new Set(['partition', 'loss', 'delay', 'churn']);

export function unsupportedInProcessMode(faults: Fault[]): string | undefined {
  const f = faults.find((x) => NETWORK_FAULTS.has(x.kind));
  return f ? `'${f.kind}' faults need a network fault proxy, which process mode does not have in this build (use --mode virtual)` : undefined;
}

async function freePort(udpToo: boolean): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => {
        if (!udpToo) return tcp.close(() => resolve(true));
        const udp = createSocket('udp4');
        udp.once('error', () => tcp.close(() => resolve(false)));
        udp.bind(port, '127.0.0.1', () => udp.close(() => tcp.close(() => resolve(true))));
      });
    });
    if (ok && (!udpToo || (await freePortCheck(port + 1)))) return port;
  }
  throw new Error('no free port');
}

function freePortCheck(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const tcp = createServer();
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => tcp.close(() => resolve(true)));
  });
}

interface Proc {
  name: string;
  args: string[];
  child?: ChildProcess;
  url?: string;
  alive: boolean;
  paused: boolean;
}

function launch(p: Proc, ready: RegExp): Promise<void> {
  const child = spawn(process.execPath, p.args, { stdio: ['ignore', 'pipe', 'ignore'] });
  p.child = child;
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${p.name} did not start`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (p.url) return;
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        p.url = m[1];
        p.alive = true;
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      p.alive = false;
      clearTimeout(timer);
    });
  });
}

async function status(url: string): Promise<{ members: { name: string; state: string }[] } | undefined> {
  try {
    const res = await fetch(`${url}/mesh/status`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()) as { members: { name: string; state: string }[] };
  } catch {
    return undefined;
  }
}

/**
 * Real gateway and mock-worker processes on loopback ports, signals as faults (SIGKILL, SIGSTOP /
 * SIGCONT, SIGTERM, restart), an HTTP load through random live gateways, and the membership and
 * request invariants read from `/mesh/status`. Every process it started is killed at the end.
 */
export async function runProcess(opts: ProcessOptions): Promise<VirtualResult> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const timeline: { t_ms: number; event: string }[] = [];
  const log = (event: string) => timeline.push({ t_ms: Math.round(now()), event });
  const workers: Proc[] = [];
  const gateways: Proc[] = [];
  const all = () => [...workers, ...gateways];
  const cleanup = () => all().forEach((p) => p.child?.kill('SIGKILL'));
  process.once('exit', cleanup);
  try {
    for (let i = 0; i < opts.workers; i++) {
      const port = await freePort(false);
      const w: Proc = { name: `worker-${i}`, args: [join(DIST, 'libs/mock-worker/src/cli.js'), '--port', String(port), '--decode-base-ms', '5', '--eos-probability', '0'], alive: false, paused: false };
      await launch(w, /(grpc:\/\/\S+)\nready/);
      workers.push(w);
    }
    const meshPorts: number[] = [];
    for (let i = 0; i < opts.nodes; i++) meshPorts.push(await freePort(true));
    const seeds = meshPorts.map((p) => `127.0.0.1:${p}`).join(',');
    const key = `mesh-sim-${opts.seed}`;
    for (let i = 0; i < opts.nodes; i++) {
      const g: Proc = {
        name: `node-${i}`,
        args: [join(DIST, 'src/main.js'), '--port', '0', '--node-name', `node-${i}`, '--worker-urls', workers.map((w) => w.url).join(','), '--mesh', '--mesh-port', String(meshPorts[i]), '--mesh-seeds', seeds, '--mesh-key', key, '--mesh-timings', 'local', '--ttft-timeout-ms', '2000'],
        alive: false,
        paused: false,
      };
      await launch(g, /"url":"(http:\/\/[^"]+)"[^\n]*gateway listening/);
      gateways.push(g);
    }
    log(`${opts.nodes} gateway and ${opts.workers} worker processes started`);
    const live = () => gateways.filter((g) => g.alive && !g.paused);
    const agrees = async () => {
      const truth = new Set(live().map((g) => g.name));
      const views = await Promise.all(live().map((g) => status(g.url!)));
      return views.every((v) => v && v.members.filter((m) => m.state === 'alive').length === truth.size && v.members.every((m) => m.state !== 'alive' || truth.has(m.name)));
    };
    const until = async (cond: () => Promise<boolean>, ms: number) => {
      const end = now() + ms;
      while (now() < end) {
        if (await cond()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    if (!(await until(agrees, 15_000))) log('initial membership did not converge');

    // ---- faults ----
    const start = now();
    const timers: NodeJS.Timeout[] = [];
    const at = (t: number, fn: () => void | Promise<void>) => timers.push(setTimeout(() => void fn(), t));
    const proc = (n: string) => (n.startsWith('node-') ? gateways : workers)[Number(n.split('-')[1])];
    const detection: number[] = [];
    const signal = (p: Proc, s: NodeJS.Signals) => p.child?.kill(s);
    let lastFault = 0;
    for (const f of opts.faults) {
      const ends = 'toMs' in f && Number.isFinite(f.toMs) ? f.toMs : 'atMs' in f ? f.atMs : 'fromMs' in f ? f.fromMs : 0;
      lastFault = Math.max(lastFault, ends);
      if (f.kind === 'kill') {
        at(f.atMs, async () => {
          const p = proc(f.target);
          signal(p, 'SIGKILL');
          p.alive = false;
          log(`SIGKILL ${p.name}`);
          if (p.name.startsWith('node-')) {
            const t = now();
            if (await until(async () => (await Promise.all(live().map((g) => status(g.url!)))).every((v) => v?.members.some((m) => m.name === p.name && m.state === 'dead')), 30_000)) {
              detection.push(Math.round(now() - t));
              log(`all live nodes see ${p.name} dead (${Math.round(now() - t)} ms)`);
            }
          }
        });
      } else if (f.kind === 'restart') {
        at(f.atMs, async () => {
          const p = proc(f.target);
          if (p.alive) return;
          p.url = undefined;
          await launch(p, p.name.startsWith('node-') ? /"url":"(http:\/\/[^"]+)"[^\n]*gateway listening/ : /(grpc:\/\/\S+)\nready/).catch((e) => log(`restart failed: ${e}`));
          log(`restarted ${p.name}`);
        });
      } else if (f.kind === 'leave') {
        at(f.atMs, () => {
          const p = proc(f.target);
          signal(p, 'SIGTERM');
          p.alive = false;
          log(`SIGTERM ${p.name}`);
        });
      } else if (f.kind === 'pause' || f.kind === 'flap' || f.kind === 'stall') {
        const every = f.kind === 'flap' ? f.everyMs : f.toMs - f.fromMs;
        for (let t = f.fromMs, on = true; t < f.toMs; t += every, on = !on) {
          const stop = on;
          at(t, () => {
            const p = proc(f.target);
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
      } else if (f.kind === 'join' || f.kind === 'rolling-restart') {
        log(`'${f.kind}' is not supported in process mode; skipped`);
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
              headers: { 'content-type': 'application/json' },
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
            // A request on a gateway that was killed or stopped meanwhile could not be saved.
            if (!g.alive || g.paused || g.child !== epochAtSend) requests.expected_failures++;
            else requests.lost++;
          }
        })();
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await new Promise((r) => setTimeout(r, 1000 / opts.rps));
    }
    await Promise.all(inflight);
    await new Promise((r) => setTimeout(r, Math.max(0, lastFault - (now() - start)) + 500));
    timers.forEach(clearTimeout);
    for (const g of gateways.filter((x) => x.paused)) {
      signal(g, 'SIGCONT');
      g.paused = false;
    }
    const settleStart = now();
    const converged = await until(agrees, 30_000);
    const convergenceMs = converged ? Math.round(now() - settleStart) : null;
    const invariants: Record<string, InvariantResult> = {
      membership_agreement: { ok: converged, detail: converged ? `all ${live().length} live processes agree` : 'no agreement within 30 s' },
      no_lost_requests: { ok: requests.lost === 0, detail: `${requests.lost} lost of ${requests.sent} (expected failures ${requests.expected_failures})` },
    };
    return { invariants, requests, detectionMs: detection, convergenceMs, hitRate: prompt > 0 ? Math.round((cached / prompt) * 1000) / 1000 : 0, timeline, heapMb: Math.round(process.memoryUsage().heapUsed / 1048576) };
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
  }
}
