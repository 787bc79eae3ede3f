/**
 * `npm run bench -- gateway --json`: what the gateway adds on top of calling a worker directly.
 * A mock worker with near-zero engine latency and the gateway each run as a child process, so the
 * direct baseline crosses one process boundary (client → worker) like a real client would, and the
 * gateway path crosses two (client → gateway → worker): the difference is what a gateway costs.
 * (An in-process worker made the direct path skip the kernel hop and shared the worker's event
 * loop with the HTTP client, which overstated the gateway's cost.) Short streaming chats:
 *   - concurrency 1: p50/p99 of end-to-end latency, gateway vs direct gRPC → added latency;
 *   - concurrency 16: requests/s through the gateway and directly.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { request as httpRequest, Agent } from 'node:http';
import { Tokenizer } from '@drover/tokenizer';
import { WorkerClient } from '@drover/worker-proto';
import { BENCH_AUTH, BENCH_AUTH_ARGS } from './lib/bench-keys';
import { eventLoopP99Ms } from './lib/event-loop';
import { runLong } from './lib/gateway-long';
import { cpuSecondsOf, percentile, startChild } from './lib/children';

export const description = 'gateway-added latency (c=1) and throughput (c=16) vs direct gRPC; --long: 20k-character prompts at c=32, tokenizer threads on/off';

const MAX_TOKENS = 8;
const MESSAGES = [{ role: 'user' as const, content: 'Give me a short answer about latency.' }];

function log(msg: string): void {
  process.stderr.write(`[bench gateway] ${msg}\n`);
}

function startWorkerProcess(): Promise<{ url: string; child: ChildProcess }> {
  const cli = join(__dirname, '../libs/mock-worker/src/cli.js');
  const engine = ['--prefill-tokens-per-sec', '1000000000', '--decode-base-ms', '0', '--decode-per-running-ms', '0'];
  return startChild([cli, '--port', '0', '--model', 'qwen3-mock', ...engine], /^(grpc:\/\/\S+)\nready/m, 'mock worker', log);
}

function startGatewayProcess(workerUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const main = join(__dirname, '../src/main.js');
  // The gateway logs JSON lines on stdout; its 'gateway listening' line carries the URL.
  return startChild([main, '--port', '0', '--worker-urls', workerUrl, '--log-level', 'info', '--policy', 'round_robin', ...BENCH_AUTH_ARGS], /"url":"(http:\/\/[^"]+)"/, 'gateway', log);
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function gatewayChat(url: string, distinct?: number): Promise<void> {
  const messages = distinct === undefined ? MESSAGES : [{ role: 'user', content: `${MESSAGES[0].content} (#${distinct})` }];
  const body = JSON.stringify({ model: 'qwen3-mock', messages, max_tokens: MAX_TOKENS, stream: true, ignore_eos: true });
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { ...BENCH_AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 && text.includes('[DONE]') ? resolve() : reject(new Error(`status ${res.statusCode}: ${text.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function directChat(client: WorkerClient, ids: number[], n: number): Promise<void> {
  for await (const _ of client.generate({ requestId: `direct-${n}`, inputIds: ids, sampling: { maxNewTokens: MAX_TOKENS, ignoreEos: true }, stream: true })) void _;
}

/** c=1, direct and gateway requests alternating, so a noisy moment hits both series alike. */
async function timeInterleaved(direct: (i: number) => Promise<void>, viaGateway: (i: number) => Promise<void>, count: number): Promise<{ direct: number[]; gateway: number[] }> {
  const out = { direct: [] as number[], gateway: [] as number[] };
  for (let i = 0; i < count; i++) {
    let t0 = performance.now();
    await direct(i);
    out.direct.push(performance.now() - t0);
    t0 = performance.now();
    await viaGateway(i);
    out.gateway.push(performance.now() - t0);
  }
  out.direct.sort((a, b) => a - b);
  out.gateway.sort((a, b) => a - b);
  return out;
}

async function throughput(fn: (i: number) => Promise<void>, concurrency: number, durationMs: number): Promise<number> {
  let done = 0;
  let n = 0;
  const end = performance.now() + durationMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn(n++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

/** Runs `count` calls of `fn` with `concurrency` in flight. */
async function throughputCount(fn: (i: number) => Promise<void>, concurrency: number, count: number): Promise<void> {
  let n = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (n < count) await fn(n++);
  }));
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  if (args.includes('--long')) return runLong(args, BENCH_AUTH_ARGS, BENCH_AUTH);
  const quick = args.includes('--quick');
  // --distinct-prompts: every request's message differs, so no render/tokenize cache helps.
  const distinct = args.includes('--distinct-prompts');
  const samples = quick ? 100 : 500;
  const durationMs = quick ? 2000 : 5000;
  const worker = await startWorkerProcess();
  const tokenizer = await Tokenizer.loadDefault();
  const { ids } = await tokenizer.encodeChat(MESSAGES, { addGenerationPrompt: true });
  const client = await WorkerClient.connect(worker.url);
  const gateway = await startGatewayProcess(worker.url);
  try {
    // Warm-up long enough for V8 to finish tiering up the request path: after only 50 requests
    // the compiler threads were still busy and charged ~1.7 ms of CPU to every measured request
    // (per-thread /proc figures: 3.8 ms/request after 50 warm-up requests, 2.3 ms after 500).
    const warmup = quick ? 500 : 1500;
    log(`worker ${worker.url}, gateway ${gateway.url}; warming up (${warmup} requests each)`);
    await throughputCount((i) => gatewayChat(gateway.url, distinct ? 300_000 + i : undefined), 4, warmup);
    await throughputCount((i) => directChat(client, ids, 300_000 + i), 4, warmup);
    log(`c=1: ${samples} requests each`);
    const cpuBefore = cpuSecondsOf(gateway.child.pid!);
    const { direct, gateway: viaGateway } = await timeInterleaved(
      (i) => directChat(client, ids, i),
      (i) => gatewayChat(gateway.url, distinct ? i : undefined),
      samples,
    );
    const cpuPerRequestMs = ((cpuSecondsOf(gateway.child.pid!) - cpuBefore) * 1000) / samples;
    log(`c=16: ${durationMs} ms each`);
    const directRps = await throughput((i) => directChat(client, ids, 100_000 + i), 16, durationMs);
    await eventLoopP99Ms(gateway.url); // a scrape resets the gateway's event-loop delay histogram
    const gatewayRps = await throughput((i) => gatewayChat(gateway.url, distinct ? 200_000 + i : undefined), 16, durationMs);
    const loopP99 = await eventLoopP99Ms(gateway.url);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      added_p50_ms: round(percentile(viaGateway, 50) - percentile(direct, 50)),
      added_p99_ms: round(percentile(viaGateway, 99) - percentile(direct, 99)),
      // The gateway process's own CPU per request at c=1: robust to a noisy machine, unlike latency.
      gateway_cpu_ms_per_request: round(cpuPerRequestMs),
      // The gateway's event-loop delay p99 during the c=16 run (its own monitorEventLoopDelay).
      event_loop_p99_ms: round(loopP99),
      rps_c16: Math.round(gatewayRps),
      direct_rps_c16: Math.round(directRps),
      gateway_p50_ms: round(percentile(viaGateway, 50)),
      gateway_p99_ms: round(percentile(viaGateway, 99)),
      direct_p50_ms: round(percentile(direct, 50)),
      direct_p99_ms: round(percentile(direct, 99)),
      samples,
      max_tokens: MAX_TOKENS,
      prompts: distinct ? 'distinct' : 'repeated',
    };
  } finally {
    gateway.child.kill('SIGTERM');
    client.close();
    worker.child.kill('SIGTERM');
    agent.destroy();
  }
}
