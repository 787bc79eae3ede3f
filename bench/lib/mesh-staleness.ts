/**
 * Mesh staleness with real processes: 3 gateway processes (`node dist/src/main.js --mesh ...`)
 * meshed on loopback in front of one mock-worker process. Each sample sends one chat completion
 * with a distinct prompt to node A and measures the time from A's routing decision until both B
 * and C hold it.
 *
 * Observable: `GET /mesh/status` → `shard_versions[origin].seq`, the sequence number of the last
 * routing op of origin's shard that a node has applied (its own shard included). Every routed
 * request appends exactly one op to its node's shard (RoutingService.record, right after the
 * worker call is sent; the bench checks A's seq moved by exactly one per request), so B and C hold
 * the decision once their copy of A's shard reaches A's seq before the request plus one.
 *
 * During each sample A, B and C are polled back to back (one status request in flight per node,
 * the next at most POLL_MS after the previous one started). For each node, the op was applied
 * after the start of the last poll that did not show it and before the end of the first that
 * did; the midpoint of that window estimates when. Staleness = max(B, C) − A of those estimates,
 * each within ± half its window (reported as the resolution). The time from sending the request
 * until B and C both show the op (an upper bound that includes A's own HTTP parsing, templating,
 * tokenizing and routing) is reported too.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BENCH_AUTH, BENCH_AUTH_ARGS } from './bench-keys';

/** dist/ (this file runs as dist/bench/lib/mesh-staleness.js). */
const DIST = join(__dirname, '../..');
const POLL_MS = 2;
const MODEL = 'qwen3-mock';

export interface StalenessResult {
  p50: number;
  p99: number;
  max: number;
  /** Time from sending the request until A itself applied the op, p50 (A's request handling). */
  localP50: number;
  /** From sending the request to A until B and C both report the op (an upper bound), p50 / p99. */
  fromSendP50: number;
  fromSendP99: number;
  /** Half the width of the poll windows bracketing the op on A and on B/C, p50 (the ± of a sample). */
  resolutionP50: number;
  samples: number;
  /** Samples that never converged within the per-sample bound (counted as missing, not timed). */
  timeouts: number;
  /** Status polls answered per second per polled node during the samples. */
  pollsPerSecond: number;
}

interface Proc {
  child: ChildProcess;
  name: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports free right now on loopback; with `mesh`, each is free for TCP and UDP
 * and its successor (the state-sync port) for TCP.
 */
export async function freePorts(count: number, mesh: boolean, avoid: ReadonlySet<number> = new Set()): Promise<number[]> {
  const out: number[] = [];
  for (let attempt = 0; attempt < 500 && out.length < count; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const taken = [...avoid, ...out].some((p) => Math.abs(p - port) <= 1);
    if (taken || !(await tcpFree(port))) continue;
    if (mesh && !((await udpFree(port)) && (await tcpFree(port + 1)))) continue;
    out.push(port);
  }
  if (out.length < count) throw new Error('no free loopback ports found');
  return out;
}

function start(name: string, args: string[], ready?: RegExp): Promise<{ proc: Proc; match?: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { child, name, stderr: '' };
  child.stderr!.on('data', (d: Buffer) => (proc.stderr = (proc.stderr + d.toString()).slice(-4000)));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    if (ready) out = (out + d.toString()).slice(-8000);
  });
  if (!ready) return Promise.resolve({ proc });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s: ${proc.stderr}`)), 30_000);
    const onData = () => {
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ proc, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${proc.stderr}`));
    });
  });
}

function stop(p: Proc): Promise<void> {
  const c = p.child;
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

async function getJson(url: string): Promise<Record<string, any> | undefined> {
  try {
    const res = await fetch(url, { headers: BENCH_AUTH, signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

async function waitUntil(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const seqOf = (status: Record<string, any> | undefined, origin: string): number => Number(status?.shard_versions?.[origin]?.seq ?? -1);

/** A distinct prompt per sample: the routing decision is for a prefix no node has seen. */
function prompt(i: number): string {
  const words = ['amber', 'basalt', 'cedar', 'delta', 'ember', 'fjord', 'granite', 'harbor', 'iris', 'juniper', 'kelp', 'lagoon', 'meadow', 'nectar', 'opal', 'prairie'];
  let x = (i + 1) * 2654435761;
  const pick = () => words[(x = (x * 1103515245 + 12345) >>> 0) % words.length];
  return `Sample ${i}: ${Array.from({ length: 24 }, pick).join(' ')}. Summarise this in one word.`;
}

export async function processStaleness(samples: number, log: (line: string) => void = () => undefined): Promise<StalenessResult> {
  const procs: Proc[] = [];
  // Interrupted (Ctrl-C, SIGTERM): take the children down too rather than orphaning them.
  const onSignal = (sig: NodeJS.Signals) => {
    for (const p of procs) p.child.kill('SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const worker = await start('mock-worker', [join(DIST, 'libs/mock-worker/src/cli.js'), '--port', '0', '--count', '1', '--model', MODEL, '--decode-base-ms', '1', '--eos-probability', '0'], /(grpc:\/\/\S+)\nready/);
    procs.push(worker.proc);
    const workerUrl = worker.match![1];
    const meshPorts = await freePorts(3, true);
    const httpPorts = await freePorts(3, false, new Set(meshPorts));
    const seeds = meshPorts.map((p) => `127.0.0.1:${p}`).join(',');
    const names = ['node-a', 'node-b', 'node-c'];
    const meshKey = randomBytes(32).toString('base64');
    for (let i = 0; i < 3; i++) {
      const { proc } = await start(names[i], [
        join(DIST, 'src/main.js'),
        '--port', String(httpPorts[i]),
        '--node-name', names[i],
        '--worker-urls', workerUrl,
        '--mesh', '--mesh-port', String(meshPorts[i]), '--mesh-seeds', seeds,
        // Gateways take only real 32-byte keys (passphrases are refused): a fresh one per run.
        '--mesh-key', meshKey, '--mesh-timings', 'local',
        '--health-check-interval-ms', '1000',
        '--log-level', 'warn',
        ...BENCH_AUTH_ARGS,
      ]);
      procs.push(proc);
    }
    const urls = httpPorts.map((p) => `http://127.0.0.1:${p}`);
    for (const [i, url] of urls.entries()) {
      await waitUntil(`${names[i]} to be ready`, async () => {
        const p = procs[i + 1].child;
        if (p.exitCode !== null) throw new Error(`${names[i]} exited with ${p.exitCode}: ${procs[i + 1].stderr}`);
        return (await fetch(`${url}/readiness`).then((r) => r.ok, () => false)) === true;
      }, 30_000);
    }
    await waitUntil('3 alive members on every node', async () => {
      const all = await Promise.all(urls.map((u) => getJson(`${u}/mesh/status`)));
      return all.every((s) => (s?.members as { state: string }[] | undefined)?.filter((m) => m.state === 'alive').length === 3);
    }, 30_000);
    const [a, b, c] = urls;
    const origin = names[0];
    const chat = (i: number) =>
      fetch(`${a}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...BENCH_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt(i) }], max_tokens: 1 }),
        signal: AbortSignal.timeout(10_000),
      }).then(async (r) => {
        if (!r.ok) throw new Error(`chat completion on node-a: HTTP ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      });
    // Warm up (JIT, keep-alive connections, the first sync batches), then wait for B and C to catch up.
    for (let i = 0; i < 10; i++) await chat(-1 - i);
    await waitUntil('B and C to hold the warm-up decisions', async () => {
      const [sa, sb, sc] = await Promise.all([a, b, c].map((u) => getJson(`${u}/mesh/status`)));
      const target = seqOf(sa, origin);
      return target >= 0 && seqOf(sb, origin) >= target && seqOf(sc, origin) >= target;
    }, 10_000);

    const times: number[] = [];
    const local: number[] = [];
    const fromSend: number[] = [];
    const halfWidth: number[] = [];
    let timeouts = 0;
    let polls = 0;
    let pollingMs = 0;
    const rng = { x: 7 };
    for (let s = 0; s < samples; s++) {
      const before = seqOf(await getJson(`${a}/mesh/status`), origin);
      const target = before + 1;
      // Per node: the start of the last poll that did not hold the op and the end of the first
      // that did. The node applied the op between the two (a response is built after its
      // request starts and before it ends), so the midpoint estimates when, within ± half the gap.
      const missStart = [0, 0, 0];
      const hitEnd: (number | undefined)[] = [undefined, undefined, undefined];
      let active = true;
      const t0 = performance.now();
      // One poller per node: back-to-back status requests, at most one in flight, ≥ POLL_MS apart.
      const poll = async (i: number, url: string) => {
        while (active && hitEnd[i] === undefined && performance.now() - t0 < 5000) {
          const started = performance.now();
          const st = await getJson(`${url}/mesh/status`);
          polls++;
          if (seqOf(st, origin) >= target) hitEnd[i] = performance.now();
          else missStart[i] = Math.max(0, started - t0);
          const wait = POLL_MS - (performance.now() - started);
          if (wait > 0) await sleep(wait);
        }
      };
      const pollers = [poll(0, a), poll(1, b), poll(2, c)];
      await chat(s);
      await Promise.all(pollers);
      active = false;
      pollingMs += performance.now() - t0;
      const after = seqOf(await getJson(`${a}/mesh/status`), origin);
      if (after !== target) log(`sample ${s}: node-a went from seq ${before} to ${after} for one request`);
      if (hitEnd.some((h) => h === undefined)) {
        timeouts++;
      } else {
        const hit = hitEnd.map((h) => h! - t0);
        const est = hit.map((h, i) => (missStart[i] + h) / 2);
        times.push(Math.max(0, Math.max(est[1], est[2]) - est[0]));
        fromSend.push(Math.max(hit[1], hit[2]));
        local.push(est[0]);
        halfWidth.push(((hit[0] - missStart[0]) + Math.max(hit[1] - missStart[1], hit[2] - missStart[2])) / 2);
      }
      // Spread samples over the sync flush interval (20 ms): 5–25 ms between decisions.
      rng.x = (rng.x * 1103515245 + 12345) >>> 0;
      await sleep(5 + (rng.x % 21));
    }
    if (times.length === 0) throw new Error('no staleness sample converged');
    for (const xs of [times, local, fromSend, halfWidth]) xs.sort((x, y) => x - y);
    const r = (x: number) => Math.round(x * 10) / 10;
    const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)];
    log(`staleness samples (ms, sorted): ${times.map(r).join(' ')}`);
    return {
      p50: r(q(times, 0.5)),
      p99: r(q(times, 0.99)),
      max: r(times[times.length - 1]),
      localP50: r(q(local, 0.5)),
      fromSendP50: r(q(fromSend, 0.5)),
      fromSendP99: r(q(fromSend, 0.99)),
      resolutionP50: r(q(halfWidth, 0.5)),
      samples: times.length,
      timeouts,
      pollsPerSecond: Math.round(polls / 3 / (pollingMs / 1000)),
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(procs.slice(1).map(stop));
    if (procs[0]) await stop(procs[0]);
  }
}
