/**
 * `npm run bench -- pd --json`: prefill/decode disaggregation against co-location with the same
 * number of mock engines (child processes, the engines' cost model: chunked prefill at
 * --prefill-tokens-per-sec, decode steps of base + per-running ms, prefill and decode steps
 * alternating on a co-located engine). A prefill-heavy mix runs through a gateway for each fleet:
 *   - long prompts with short outputs (RAG-like: ~PROMPT_TOKENS tokens in, 8 out),
 *   - long generations from short prompts (chat-like: ~40 tokens in, GEN_TOKENS out),
 * as closed loops of concurrent clients. TTFT over all requests, ITL (the gap between streamed
 * content chunks) over the long generations, where a co-located engine's prefill chunks show up.
 * → {"colocated": {ttft_p50_ms, ttft_p99_ms, itl_p50_ms, itl_p99_ms, ...}, "disaggregated": {...}}
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { request as httpRequest, Agent } from 'node:http';
import { BENCH_AUTH, BENCH_AUTH_ARGS } from './lib/bench-keys';
import { percentile, startChild } from './lib/children';

export const description = 'PD disaggregation vs co-location, same engine count: TTFT and ITL p50/p99 on a prefill-heavy mix (--engines 4 --prefill-engines 2 --duration-s 20)';

const PROMPT_TOKENS = 3000;
const GEN_TOKENS = 128;

function log(msg: string): void {
  process.stderr.write(`[bench pd] ${msg}\n`);
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** Starts `count` mock engines of one role in one CLI process; resolves with their URLs. */
function startEngines(count: number, role: 'regular' | 'prefill' | 'decode'): Promise<{ urls: string[]; child: ChildProcess }> {
  const cli = join(__dirname, '../libs/mock-worker/src/cli.js');
  const pattern = new RegExp(`^((?:grpc://\\S+\\n){${count}})ready`, 'm');
  return startChild([cli, '--port', '0', '--count', String(count), '--role', role, '--model', 'qwen3-mock'], pattern, `${count} ${role} engine(s)`, log).then(({ url, child }) => ({ urls: url.trim().split('\n'), child }));
}

function startGateway(workerArgs: string[]): Promise<{ url: string; child: ChildProcess }> {
  const main = join(__dirname, '../src/main.js');
  return startChild([main, '--port', '0', '--log-level', 'info', '--no-kv-events', ...workerArgs, ...BENCH_AUTH_ARGS], /"url":"(http:\/\/[^"]+)"/, 'gateway', log);
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One streamed chat: the times (ms since send) of every content chunk. */
function streamChat(url: string, content: string, maxTokens: number): Promise<number[]> {
  const body = JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content }], max_tokens: maxTokens, stream: true, ignore_eos: true });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { ...BENCH_AUTH, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const times: number[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const now = performance.now() - started;
        buf += d;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          if (event.includes('"content":"') && !event.includes('"content":""')) times.push(now);
        }
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(times) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Distinct filler text (no shared prefix between requests: every prompt is a full prefill). */
function words(seed: number, tokens: number): string {
  const out: string[] = [];
  for (let i = 0; i < tokens; i++) out.push(`w${(seed * 7919 + i * 104729) % 99991}`);
  return out.join(' ');
}

interface Mix {
  ttft: number[];
  itl: number[];
  requests: number;
  errors: number;
}

async function runMix(url: string, durationMs: number, longClients: number, genClients: number): Promise<Mix> {
  const mix: Mix = { ttft: [], itl: [], requests: 0, errors: 0 };
  const end = performance.now() + durationMs;
  let seq = 0;
  const loop = async (kind: 'long' | 'gen'): Promise<void> => {
    while (performance.now() < end) {
      const n = seq++;
      // A word is about two tokens with the Qwen3 tokenizer.
      const content = kind === 'long' ? words(n, PROMPT_TOKENS / 2) : `${words(n, 20)} tell me a long story`;
      try {
        const times = await streamChat(url, content, kind === 'long' ? 8 : GEN_TOKENS);
        mix.requests++;
        if (times.length > 0) mix.ttft.push(times[0]);
        if (kind === 'gen') for (let i = 1; i < times.length; i++) mix.itl.push(times[i] - times[i - 1]);
      } catch {
        mix.errors++;
      }
    }
  };
  await Promise.all([...Array.from({ length: longClients }, () => loop('long')), ...Array.from({ length: genClients }, () => loop('gen'))]);
  return mix;
}

function summary(m: Mix): Record<string, number> {
  const ttft = [...m.ttft].sort((a, b) => a - b);
  const itl = [...m.itl].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { ttft_p50_ms: r(percentile(ttft, 50)), ttft_p99_ms: r(percentile(ttft, 99)), itl_p50_ms: r(percentile(itl, 50)), itl_p99_ms: r(percentile(itl, 99)), requests: m.requests, errors: m.errors };
}

async function fleet(name: string, engineGroups: { count: number; role: 'regular' | 'prefill' | 'decode' }[], durationMs: number, clients: { long: number; gen: number }): Promise<Record<string, number>> {
  const children: ChildProcess[] = [];
  try {
    const args: string[] = [];
    for (const g of engineGroups) {
      const { urls, child } = await startEngines(g.count, g.role);
      children.push(child);
      args.push(g.role === 'regular' ? '--worker-urls' : g.role === 'prefill' ? '--prefill-urls' : '--decode-urls', urls.join(','));
    }
    const gw = await startGateway(args);
    children.push(gw.child);
    // Warm-up: connections, tokenizer, the first requests' JIT; not measured.
    await runMix(gw.url, 2000, 1, 1);
    log(`${name}: measuring ${durationMs} ms with ${clients.long} long-prompt and ${clients.gen} long-generation clients`);
    const s = summary(await runMix(gw.url, durationMs, clients.long, clients.gen));
    log(`${name}: ${JSON.stringify(s)}`);
    return s;
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const engines = flag(args, 'engines', 4);
  const prefillEngines = flag(args, 'prefill-engines', engines / 2);
  if (prefillEngines >= engines) throw new Error('--prefill-engines must leave at least one decode engine');
  const durationMs = flag(args, 'duration-s', 20) * 1000;
  const clients = { long: flag(args, 'long-clients', 4), gen: flag(args, 'gen-clients', 8) };
  const colocated = await fleet('colocated', [{ count: engines, role: 'regular' }], durationMs, clients);
  const disaggregated = await fleet('disaggregated', [{ count: prefillEngines, role: 'prefill' }, { count: engines - prefillEngines, role: 'decode' }], durationMs, clients);
  return {
    colocated,
    disaggregated,
    itl_p99_ratio: Math.round((colocated.itl_p99_ms / disaggregated.itl_p99_ms) * 10) / 10,
    setup: { engines, prefill_engines: prefillEngines, decode_engines: engines - prefillEngines, duration_s: durationMs / 1000, long_prompt_clients: clients.long, long_generation_clients: clients.gen, prompt_tokens: PROMPT_TOKENS, generation_tokens: GEN_TOKENS },
  };
}
