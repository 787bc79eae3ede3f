/**
 * `npm run bench -- gateway --long`: distinct 20,000-character prompts at concurrency 32, through
 * the gateway with its tokenizer threads on and off (two gateway processes, one after the other, in
 * the same run), against the same mock worker reached directly with pre-tokenized ids. TTFT is
 * the time to the first streamed token; "added" is the gateway's p50/p99 minus the direct path's.
 * `tokenize_ms_p50` is the tokenizer alone (render + encode, inline, no cache) on the same prompts
 * in this process, the yardstick the added TTFT is held against.
 */
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { Tokenizer } from '@drover/tokenizer';
import { WorkerClient } from '@drover/worker-proto';
import { cpuSecondsOf, percentile, startChild } from './children';
import { eventLoopP99Ms } from './event-loop';

const CONCURRENCY = 32;
const PROMPT_CHARS = 20_000;
const MAX_TOKENS = 16;
const WORDS = ['latency', 'cache', 'prefix', 'routing', 'gateway', 'tokens', 'stream', 'worker', 'engine', 'batch', 'decode', 'prefill', 'mesh', 'node'];

function log(msg: string): void {
  process.stderr.write(`[bench gateway --long] ${msg}\n`);
}

/** A distinct prompt per index: the same vocabulary, a different word order from the start. */
function prompt(i: number): string {
  let s = `Request ${i}. `;
  let x = (i * 2654435761) >>> 0;
  while (s.length < PROMPT_CHARS) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += WORDS[x % WORDS.length] + ((x >>> 8) % 9 === 0 ? '. ' : ' ');
  }
  return s;
}

const messagesOf = (i: number) => [{ role: 'user' as const, content: prompt(i) }];

interface Phase {
  ttft: number[];
  cpuMsPerRequest: number;
  loopP99Ms: number;
}

async function closedLoop(count: number, fn: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (n < count) out.push(await fn(n++));
    }),
  );
  return out.sort((a, b) => a - b);
}

/** Time to the first content token of one streaming chat through the gateway. */
function gatewayTtft(url: string, agent: Agent, i: number, headers: Record<string, string>): Promise<number> {
  const body = JSON.stringify({ model: 'qwen3-mock', messages: messagesOf(i), max_tokens: MAX_TOKENS, stream: true, ignore_eos: true });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let first: number | undefined;
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
        if (first === undefined && text.includes('"content":"') && /"content":"[^"]/.test(text)) first = performance.now() - t0;
      });
      res.on('end', () => (res.statusCode === 200 && first !== undefined ? resolve(first) : reject(new Error(`status ${res.statusCode}: ${text.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function directTtft(client: WorkerClient, ids: number[], i: number): Promise<number> {
  const t0 = performance.now();
  let first: number | undefined;
  for await (const ev of client.generate({ requestId: `long-direct-${i}`, inputIds: ids, sampling: { maxNewTokens: MAX_TOKENS, ignoreEos: true }, stream: true })) {
    if (first === undefined && ev.type === 'chunk' && ev.tokenIds.length > 0) first = performance.now() - t0;
  }
  return first ?? performance.now() - t0;
}

export async function runLong(args: string[], gatewayArgs: string[] = [], headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const quick = args.includes('--quick');
  const requests = quick ? 96 : 256;
  const worker = await startChild([join(__dirname, '../../libs/mock-worker/src/cli.js'), '--port', '0', '--model', 'qwen3-mock', '--prefill-tokens-per-sec', '1000000000'], /^(grpc:\/\/\S+)\nready/m, 'mock worker', log);
  const client = await WorkerClient.connect(worker.url);
  const tokenizer = await Tokenizer.load(undefined, { chatCacheBytes: 0, l0CacheBytes: 0, l1CacheBytes: 0 });
  const children = [worker.child];
  try {
    // The tokenizer alone, inline, on prompts like the measured ones.
    const tokenizeMs: number[] = [];
    const idsOf = new Map<number, number[]>();
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      const { ids } = await tokenizer.encodeChat(messagesOf(1_000_000 + i), { addGenerationPrompt: true });
      tokenizeMs.push(performance.now() - t0);
      idsOf.set(i, ids);
    }
    tokenizeMs.sort((a, b) => a - b);
    log(`tokenizer alone: p50 ${percentile(tokenizeMs, 50).toFixed(2)} ms, ${idsOf.get(0)!.length} tokens`);

    log(`direct: ${requests} requests at c=${CONCURRENCY}`);
    await closedLoop(CONCURRENCY, (i) => directTtft(client, idsOf.get(i)!, i));
    const direct = await closedLoop(requests, (i) => directTtft(client, idsOf.get(i)!, i));

    const phase = async (label: string, extra: string[], base: number): Promise<Phase> => {
      const main = join(__dirname, '../../src/main.js');
      const gw = await startChild([main, '--port', '0', '--worker-urls', worker.url, '--log-level', 'info', '--policy', 'round_robin', ...gatewayArgs, ...extra], /"url":"(http:\/\/[^"]+)"/, `gateway (${label})`, log);
      children.push(gw.child);
      const agent = new Agent({ keepAlive: true, maxSockets: 64 });
      try {
        // Warm-up on prompts of its own, until the request path is compiled.
        await closedLoop(quick ? 64 : 160, (i) => gatewayTtft(gw.url, agent, base + 500_000 + i, headers));
        await eventLoopP99Ms(gw.url, headers);
        const cpu0 = cpuSecondsOf(gw.child.pid!);
        log(`gateway (${label}): ${requests} requests at c=${CONCURRENCY}`);
        const ttft = await closedLoop(requests, (i) => gatewayTtft(gw.url, agent, base + i, headers));
        const cpuMsPerRequest = ((cpuSecondsOf(gw.child.pid!) - cpu0) * 1000) / requests;
        const loopP99Ms = await eventLoopP99Ms(gw.url, headers);
        return { ttft, cpuMsPerRequest, loopP99Ms };
      } finally {
        agent.destroy();
        gw.child.kill('SIGTERM');
      }
    };
    const on = await phase('tokenizer threads on', [], 2_000_000);
    const off = await phase('tokenizer threads off', ['--tokenizer-threads', '0'], 3_000_000);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    const fields = (p: Phase, suffix: string) => ({
      [`added_ttft_p50_ms${suffix}`]: round(percentile(p.ttft, 50) - percentile(direct, 50)),
      [`added_ttft_p99_ms${suffix}`]: round(percentile(p.ttft, 99) - percentile(direct, 99)),
      [`gateway_cpu_ms_per_request${suffix}`]: round(p.cpuMsPerRequest),
      [`event_loop_p99_ms${suffix}`]: round(p.loopP99Ms),
      [`gateway_ttft_p50_ms${suffix}`]: round(percentile(p.ttft, 50)),
    });
    return {
      ...fields(on, ''),
      tokenize_ms_p50: round(percentile(tokenizeMs, 50)),
      ...fields(off, '_pool_off'),
      direct_ttft_p50_ms: round(percentile(direct, 50)),
      direct_ttft_p99_ms: round(percentile(direct, 99)),
      prompt_chars: PROMPT_CHARS,
      prompt_tokens: idsOf.get(0)!.length,
      concurrency: CONCURRENCY,
      requests,
      max_tokens: MAX_TOKENS,
    };
  } finally {
    client.close();
    for (const c of children) c.kill('SIGTERM');
  }
}
