/**
 * `npm run bench -- proxy --json`: what Drover adds on the HTTP passthrough path (a model served by
 * an OpenAI-compatible upstream: the gateway validates, routes on the prompt text and forwards),
 * against the floor of a bare Fastify + undici proxy written here, all measured in one run.
 * Three child processes: an upstream that answers at once (lib/proxy-upstream.ts), the floor proxy
 * (lib/proxy-floor.ts) and the compiled gateway (`dist/src/main.js`) with the upstream as its only
 * http:// worker. The client (this process) sends non-streaming chat completions:
 *   - warm-up: every target interleaved until JIT compilation is over (see WARMUP below);
 *   - c=1: direct, floor and Drover requests interleaved → p50/p99 and what each proxy adds;
 *   - c=16: requests/s of each, in alternating rounds so a noisy moment hits all three alike.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { eventLoopP99Ms } from './lib/event-loop';
import { cpuSecondsOf, percentile, startChild } from './lib/children';
import { BENCH_AUTH, BENCH_AUTH_ARGS, BENCH_LOOPBACK_WORKERS } from './lib/bench-keys';

export const description = 'HTTP passthrough: Drover vs a bare Fastify+undici proxy vs direct (c=1, c=16)';

/**
 * Requests per target before anything is measured. Measured on the project machine (the
 * `warmup_gateway_p50_ms` field shows Drover's p50 per block of 500): with 1,500 the p50 was still
 * falling at the end (2.7 → 0.9 ms per 250, then 0.7 ms measured) as V8 optimised Fastify, Nest,
 * zod, routing and undici; it levels off after ~2,500. 4,000 leaves a margin.
 */
const WARMUP = 4000;
const WARMUP_BLOCK = 500;
/** The model the upstream serves (lib/proxy-upstream.ts), and the name Drover gives it with --rename. */
const UPSTREAM_MODEL = 'bench-upstream';
const RENAMED = 'bench-model';
const body = (model: string): string =>
  JSON.stringify({
  model,
  messages: [
    { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
    { role: 'user', content: 'Give me a short answer about latency in HTTP proxies, in one sentence.' },
  ],
  max_tokens: 16,
  temperature: 0,
});

const JSON_TYPE = { 'content-type': 'application/json' };

function log(msg: string): void {
  process.stderr.write(`[bench proxy] ${msg}\n`);
}

interface Target {
  name: 'direct' | 'floor' | 'gateway';
  pool: Pool;
  body: string;
  /** The gateway's bearer key (auth is on, as in production); the upstream and the floor take none. */
  headers: Record<string, string>;
}

async function chat(t: Target): Promise<void> {
  const res = await t.pool.request({ method: 'POST', path: '/v1/chat/completions', headers: t.headers, body: t.body });
  const text = await res.body.text();
  if (res.statusCode !== 200 || !text.includes('"chat.completion"')) throw new Error(`${t.name}: status ${res.statusCode}: ${text.slice(0, 200)}`);
}

/** c=1: one request to each target in turn, `count` times; latencies per target, sorted. */
async function interleaved(targets: Target[], count: number): Promise<number[][]> {
  const out = targets.map(() => [] as number[]);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < targets.length; k++) {
      const t0 = performance.now();
      await chat(targets[k]);
      out[k].push(performance.now() - t0);
    }
  }
  for (const s of out) s.sort((a, b) => a - b);
  return out;
}

/** `concurrency` loops against one target for `durationMs`; completed requests and latencies. */
async function load(t: Target, concurrency: number, durationMs: number): Promise<{ done: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await chat(t);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { done: latencies.length, seconds: (performance.now() - t0) / 1000, latencies };
}

/** The gateway's event-loop delay p99 (s) since the previous scrape. */
async function eventLoopP99(gatewayUrl: string): Promise<number | undefined> {
  return (await eventLoopP99Ms(gatewayUrl, BENCH_AUTH)) / 1000;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const quick = args.includes('--quick');
  // --rename: Drover serves the upstream's model under another name, so it must rewrite the model
  // in the request and the answer (parse and re-serialise) instead of forwarding bytes as they are.
  const rename = args.includes('--rename');
  const samples = quick ? 300 : 2000;
  const warmup = quick ? 500 : WARMUP;
  const roundMs = quick ? 700 : 1500;
  const rounds = 3;
  const dist = join(__dirname, '..');
  // --cpu-prof DIR: the gateway and the floor proxy write V8 CPU profiles of the whole run into
  // DIR when they exit (CPU.*.<pid>.*.cpuprofile; the pids are logged).
  const profDir = args.includes('--cpu-prof') ? args[args.indexOf('--cpu-prof') + 1] : undefined;
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const upstream = await startChild([join(__dirname, 'lib/proxy-upstream.js')], /^listening (http:\/\/\S+)$/m, 'upstream');
  const floor = await startChild([...nodeArgs, join(__dirname, 'lib/proxy-floor.js'), upstream.url], /^listening (http:\/\/\S+)$/m, 'floor proxy');
  const gateway = await startChild(
    [...nodeArgs, join(dist, 'src/main.js'), '--port', '0', '--worker-urls', upstream.url, ...(rename ? ['--model-name', RENAMED] : []), '--log-level', 'info', '--policy', 'round_robin', ...BENCH_AUTH_ARGS, ...BENCH_LOOPBACK_WORKERS],
    // Its JSON log lines name the worker's URL too: the 'gateway listening' line carries its own.
    /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"gateway listening"/,
    'gateway',
  );
  const pools = { connections: 32, pipelining: 1, keepAliveTimeout: 60_000 };
  const direct: Target = { name: 'direct', pool: new Pool(upstream.url, pools), body: body(UPSTREAM_MODEL), headers: JSON_TYPE };
  const viaFloor: Target = { name: 'floor', pool: new Pool(floor.url, pools), body: body(UPSTREAM_MODEL), headers: JSON_TYPE };
  const viaGateway: Target = { name: 'gateway', pool: new Pool(gateway.url, pools), body: body(rename ? RENAMED : UPSTREAM_MODEL), headers: { ...JSON_TYPE, ...BENCH_AUTH } };
  const all = [direct, viaFloor, viaGateway];
  try {
    await waitForWorker(viaGateway);
    log(`upstream ${upstream.url}, floor ${floor.url}, gateway ${gateway.url}; warming up (${warmup} requests each)`);
    const warmupCurve: number[] = [];
    for (let done = 0; done < warmup; done += WARMUP_BLOCK) {
      const [, , g] = await interleaved(all, Math.min(WARMUP_BLOCK, warmup - done));
      warmupCurve.push(Math.round(percentile(g, 50) * 1000) / 1000);
    }
    log(`warm-up gateway p50 per ${WARMUP_BLOCK}: ${warmupCurve.join(' ')} ms`);

    log(`c=1: ${samples} requests each, interleaved`);
    const gwCpu0 = cpuSecondsOf(gateway.child.pid!);
    const floorCpu0 = cpuSecondsOf(floor.child.pid!);
    const [d1, f1, g1] = await interleaved(all, samples);
    const gatewayCpuMs = ((cpuSecondsOf(gateway.child.pid!) - gwCpu0) * 1000) / samples;
    const floorCpuMs = ((cpuSecondsOf(floor.child.pid!) - floorCpu0) * 1000) / samples;

    log(`c=16: ${rounds} rounds of ${roundMs} ms per target`);
    const agg = all.map(() => ({ done: 0, seconds: 0, latencies: [] as number[] }));
    let loopP99: number | undefined;
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < all.length; k++) {
        if (all[k] === viaGateway) await eventLoopP99(gateway.url); // resets the histogram
        const res = await load(all[k], 16, roundMs);
        if (all[k] === viaGateway) loopP99 = Math.max(loopP99 ?? 0, (await eventLoopP99(gateway.url)) ?? NaN);
        agg[k].done += res.done;
        agg[k].seconds += res.seconds;
        agg[k].latencies.push(...res.latencies);
      }
    }
    for (const a of agg) a.latencies.sort((x, y) => x - y);
    const [d16, f16, g16] = agg;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const rps = (a: (typeof agg)[number]) => Math.round(a.done / a.seconds);
    return {
      added_p50_ms: round(percentile(g1, 50) - percentile(d1, 50)),
      floor_added_p50_ms: round(percentile(f1, 50) - percentile(d1, 50)),
      added_p99_ms: round(percentile(g1, 99) - percentile(d1, 99)),
      floor_added_p99_ms: round(percentile(f1, 99) - percentile(d1, 99)),
      rps_c16: rps(g16),
      floor_rps_c16: rps(f16),
      direct_rps_c16: rps(d16),
      rps_ratio_to_floor: round(rps(g16) / rps(f16)),
      added_p50_ratio_to_floor: round((percentile(g1, 50) - percentile(d1, 50)) / (percentile(f1, 50) - percentile(d1, 50))),
      // Each proxy process's own CPU per request at c=1: robust to a noisy machine, unlike latency.
      gateway_cpu_ms_per_request: round(gatewayCpuMs),
      floor_cpu_ms_per_request: round(floorCpuMs),
      ...(loopP99 !== undefined && Number.isFinite(loopP99) ? { event_loop_p99_ms: round(loopP99 * 1000) } : {}),
      gateway_p50_ms: round(percentile(g1, 50)),
      gateway_p99_ms: round(percentile(g1, 99)),
      floor_p50_ms: round(percentile(f1, 50)),
      floor_p99_ms: round(percentile(f1, 99)),
      direct_p50_ms: round(percentile(d1, 50)),
      direct_p99_ms: round(percentile(d1, 99)),
      gateway_p99_c16_ms: round(percentile(g16.latencies, 99)),
      floor_p99_c16_ms: round(percentile(f16.latencies, 99)),
      direct_p99_c16_ms: round(percentile(d16.latencies, 99)),
      warmup_gateway_p50_ms: warmupCurve,
      samples,
      warmup,
      model: rename ? 'renamed' : 'same',
    };
  } finally {
    await Promise.all(all.map((t) => t.pool.destroy()));
    gateway.child.kill('SIGTERM');
    floor.child.kill('SIGTERM');
    if (profDir) log(`profiles in ${profDir}: gateway pid ${gateway.child.pid}, floor pid ${floor.child.pid}`);
    // Wait for them to exit (profiles are written at exit) while this process still reads their
    // stdout: the gateway flushes its buffered log lines at exit, and a gateway whose stdout reader
    // had gone away once hung there for good (SIGTERM no longer handled). SIGKILL after 40 s.
    await Promise.all([gateway, floor].map(({ child }) => exited(child, 40_000)));
    upstream.child.kill('SIGTERM');
  }
}

/** Resolves when `child` has exited; SIGKILLs it after `ms`. */
function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The gateway registers its http:// worker asynchronously after listening: wait until it serves. */
async function waitForWorker(t: Target): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      return await chat(t);
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
