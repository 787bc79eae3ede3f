/**
 * `npm run bench -- gateway --json`: what the gateway adds on top of calling a worker directly.
 * A mock worker with near-zero latency runs in this process; the gateway runs as a child process
 * (so its event loop is not shared with the load generator). Short streaming chats:
 *   - concurrency 1: p50/p99 of end-to-end latency, gateway vs direct gRPC → added latency;
 *   - concurrency 16: requests/s through the gateway and directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { request as httpRequest, Agent } from 'node:http';
import { startMockWorker } from '@drover/mock-worker';
import { Tokenizer } from '@drover/tokenizer';
import { WorkerClient } from '@drover/worker-proto';

export const description = 'gateway-added latency (c=1) and throughput (c=16) vs direct gRPC';

const MAX_TOKENS = 8;
const MESSAGES = [{ role: 'user' as const, content: 'Give me a short answer about latency.' }];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function log(msg: string): void {
  process.stderr.write(`[bench gateway] ${msg}\n`);
}

async function startGatewayProcess(workerUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const main = join(__dirname, '../src/main.js');
  const child = spawn(process.execPath, [main, '--port', '0', '--worker-urls', workerUrl, '--log-level', 'info', '--policy', 'round_robin'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The gateway logs JSON lines on stdout; its 'gateway listening' line carries the URL.
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('gateway did not start')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(/"url":"(http:\/\/[^"]+)"/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function gatewayChat(url: string): Promise<void> {
  const body = JSON.stringify({ model: 'qwen3-mock', messages: MESSAGES, max_tokens: MAX_TOKENS, stream: true, ignore_eos: true });
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
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

async function timeSequential(fn: (i: number) => Promise<void>, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
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

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const quick = args.includes('--quick');
  const samples = quick ? 100 : 500;
  const durationMs = quick ? 2000 : 5000;
  const worker = await startMockWorker({ port: 0, model: 'qwen3-mock', prefillTokensPerSec: 1e9, decodeBaseMs: 0, decodePerRunningMs: 0 } as never);
  const tokenizer = await Tokenizer.loadDefault();
  const { ids } = await tokenizer.encodeChat(MESSAGES, { addGenerationPrompt: true });
  const client = await WorkerClient.connect(worker.url);
  const gateway = await startGatewayProcess(worker.url);
  try {
    log(`worker ${worker.url}, gateway ${gateway.url}; warming up`);
    for (let i = 0; i < 50; i++) {
      await gatewayChat(gateway.url);
      await directChat(client, ids, i);
    }
    log(`c=1: ${samples} requests each`);
    const direct = await timeSequential((i) => directChat(client, ids, i), samples);
    const viaGateway = await timeSequential(() => gatewayChat(gateway.url), samples);
    log(`c=16: ${durationMs} ms each`);
    const directRps = await throughput((i) => directChat(client, ids, 100_000 + i), 16, durationMs);
    const gatewayRps = await throughput(() => gatewayChat(gateway.url), 16, durationMs);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      added_p50_ms: round(percentile(viaGateway, 50) - percentile(direct, 50)),
      added_p99_ms: round(percentile(viaGateway, 99) - percentile(direct, 99)),
      rps_c16: Math.round(gatewayRps),
      direct_rps_c16: Math.round(directRps),
      gateway_p50_ms: round(percentile(viaGateway, 50)),
      gateway_p99_ms: round(percentile(viaGateway, 99)),
      direct_p50_ms: round(percentile(direct, 50)),
      direct_p99_ms: round(percentile(direct, 99)),
      samples,
      max_tokens: MAX_TOKENS,
    };
  } finally {
    gateway.child.kill('SIGTERM');
    client.close();
    await worker.close();
    agent.destroy();
  }
}
