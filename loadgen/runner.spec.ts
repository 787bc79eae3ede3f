import { afterEach, describe, expect, it } from 'vitest';
import { buildReport } from './report';
import { runLoad, type RunConfig } from './runner';
import { startFakeServer, tokenText, type FakeBehavior, type FakeServer } from './testing/fake-openai-server';

const servers: FakeServer[] = [];
async function fake(behave?: (req: { index: number; prompt: string }) => FakeBehavior): Promise<FakeServer> {
  const s = await startFakeServer(behave);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const base = (urls: string[], extra: Partial<RunConfig> = {}): RunConfig => ({
  urls, model: 'm', api: 'chat', stream: true, maxTokens: 8, seed: 7, timeoutMs: 5_000, workload: 'random', spread: 'request', maxConnections: 16, concurrency: 4, requests: 20, ...extra,
});

async function run(cfg: RunConfig) {
  const r = await runLoad(cfg);
  return { ...r, report: buildReport(r.samples, r.elapsedMs, r.offeredRps, {}) };
}

describe('loadgen runner against a fake OpenAI-compatible server', () => {
  it('reports exactly the requests, tokens and cached tokens the server served', async () => {
    const s = await fake(() => ({ tokens: 6, promptTokens: 100, cachedTokens: 25 }));
    const { report, samples } = await run(base([s.url], { requests: 30, concurrency: 5 }));
    expect(report.requests).toEqual({ sent: 30, ok: 30, failed: 0 });
    expect(samples.reduce((a, x) => a + x.outputTokens, 0)).toBe(s.served.outputTokens);
    expect(s.served.ok).toBe(30);
    expect(s.requests).toHaveLength(30);
    expect(report.cached_token_ratio).toBe(0.25);
    expect(report.errors).toEqual({});
    // Every request asked for the usage chunk, which is where cached_tokens comes from.
    expect(s.requests.every((r) => r.body.stream === true && r.body.stream_options?.include_usage === true)).toBe(true);
    expect(Math.abs(report.output_tokens_per_s - (30 * 6) / report.elapsed_s)).toBeLessThan(report.output_tokens_per_s * 0.01);
  });

  it('measures TTFT and inter-token latency within tolerance of the server delays', async () => {
    const s = await fake(() => ({ firstTokenDelayMs: 120, tokenIntervalMs: 25, tokens: 5 }));
    const { report } = await run(base([s.url], { requests: 8, concurrency: 4 }));
    expect(report.requests.ok).toBe(8);
    expect(report.ttft_ms.p50!).toBeGreaterThanOrEqual(115);
    expect(report.ttft_ms.p50!).toBeLessThan(200);
    expect(report.itl_ms.count).toBe(8 * 4);
    expect(report.itl_ms.p50!).toBeGreaterThanOrEqual(20);
    expect(report.itl_ms.p50!).toBeLessThan(60);
    expect(report.e2e_ms.p50!).toBeGreaterThanOrEqual(120 + 4 * 25 - 5);
  });

  it('classifies errors by kind: HTTP status, timeout, connection, mid-stream', async () => {
    const kinds: FakeBehavior[] = [{ status: 429 }, { status: 500 }, { hang: true }, { destroy: true }, { midStream: 'error-event', tokens: 6 }, { midStream: 'abort', tokens: 6, tokenIntervalMs: 5 }, {}];
    const s = await fake((r) => kinds[r.index % kinds.length]);
    const { report } = await run(base([s.url], { requests: 14, concurrency: 1, timeoutMs: 300 }));
    expect(report.errors).toEqual({ http_429: 2, http_500: 2, timeout: 2, connection: 2, stream_error: 4 });
    expect(report.requests).toEqual({ sent: 14, ok: 2, failed: 12 });
    expect(s.served.ok).toBe(2);
  });

  it('counts a dead port as connection errors', async () => {
    const s = await fake();
    const url = s.url;
    await s.close();
    servers.length = 0;
    const { report } = await run(base([url], { requests: 3, concurrency: 1 }));
    expect(report.errors).toEqual({ connection: 3 });
  });

  it('multiturn sends the real previous answer in the next turn, and prefix reuse shows as cached tokens', async () => {
    const s = await fake(() => ({ tokens: 3 }));
    const { report, samples } = await run(base([s.url], { workload: 'multiturn', requests: 12, concurrency: 2 }));
    expect(report.requests.ok).toBe(12);
    const followUps = s.requests.filter((r) => r.body.messages.some((m: any) => m.role === 'assistant'));
    expect(followUps.length).toBeGreaterThan(0);
    for (const r of followUps) {
      const answers = r.body.messages.filter((m: any) => m.role === 'assistant');
      for (const a of answers) expect(a.content).toBe(tokenText(0) + tokenText(1) + tokenText(2));
    }
    expect(new Set(samples.map((x) => x.conversation)).size).toBeLessThan(12);
    expect(report.cached_token_ratio!).toBeGreaterThan(0.3);
  });

  it('non-streaming and completions APIs are measured too', async () => {
    const s = await fake(() => ({ tokens: 4, firstTokenDelayMs: 30 }));
    const { report } = await run(base([s.url], { stream: false, api: 'completions', requests: 6, concurrency: 2 }));
    expect(report.requests.ok).toBe(6);
    expect(s.requests.every((r) => r.path === '/v1/completions' && typeof r.body.prompt === 'string' && r.body.stream === false)).toBe(true);
    expect(report.ttft_ms.p50!).toBeGreaterThanOrEqual(25);
    expect(report.output_tokens_per_s).toBeGreaterThan(0);
  });

  it('parses CRLF-framed streams and estimates tokens when usage is missing', async () => {
    const s = await fake(() => ({ tokens: 5, crlf: true, noUsage: true }));
    const { report } = await run(base([s.url], { requests: 4, concurrency: 2 }));
    expect(report.requests.ok).toBe(4);
    expect(report.itl_ms.count).toBe(4 * 4);
    expect(report.cached_token_ratio).toBeNull();
  });

  it('spreads over several URLs per request and per session, with a per-URL breakdown', async () => {
    const a = await fake(() => ({ tokens: 2 }));
    const b = await fake(() => ({ tokens: 2 }));
    const { report } = await run(base([a.url, b.url], { requests: 10, concurrency: 2 }));
    expect(report.per_url[a.url].requests.ok).toBe(a.served.ok);
    expect(report.per_url[b.url].requests.ok).toBe(b.served.ok);
    expect(a.served.ok + b.served.ok).toBe(10);
    expect(a.served.ok).toBe(5);

    const bySession = await run(base([a.url, b.url], { workload: 'multiturn', spread: 'session', requests: 16, concurrency: 3 }));
    const homes = new Map<string, Set<string>>();
    for (const x of bySession.samples) homes.set(x.conversation, (homes.get(x.conversation) ?? new Set()).add(x.url));
    expect([...homes.values()].every((urls) => urls.size === 1)).toBe(true);
    expect(new Set(bySession.samples.map((x) => x.url)).size).toBe(2);
  });

  it('sends the API key and caps connections at --max-connections', async () => {
    const s = await fake(() => ({ firstTokenDelayMs: 20, tokens: 2 }));
    const { report } = await run(base([s.url], { apiKey: 'sekret', maxConnections: 3, rps: 200, concurrency: undefined, requests: 30 }));
    expect(report.requests.ok).toBe(30);
    expect(s.maxConcurrent).toBeLessThanOrEqual(3);
    expect(s.requests.every((r) => r.headers.authorization === 'Bearer sekret')).toBe(true);
  });

  it('open loop holds its schedule when the server slows, and reports the lag instead of hiding it', async () => {
    const s = await fake(() => ({ firstTokenDelayMs: 100, tokens: 2 }));
    // 2 connections at ~100 ms each serve ~20 req/s; 50 req/s is offered, so requests queue.
    const { report, samples } = await run(base([s.url], { rps: 50, concurrency: undefined, durationMs: 600, requests: undefined, maxConnections: 2 }));
    expect(report.rps_offered!).toBeGreaterThan(25);
    expect(report.rps_offered!).toBeLessThan(85);
    expect(report.requests.sent).toBe(samples.length);
    expect(report.requests.ok).toBe(report.requests.sent);
    expect(report.schedule_lag_ms.p90!).toBeGreaterThan(200);
    expect(report.e2e_from_schedule_ms.p90!).toBeGreaterThan(report.e2e_ms.p90! + 150);
    expect(report.ttft_from_schedule_ms.p50!).toBeGreaterThan(report.ttft_ms.p50!);
  }, 10_000);

  it('open loop against a fast server has small lag and offered ≈ achieved', async () => {
    const s = await fake(() => ({ tokens: 2 }));
    const { report } = await run(base([s.url], { rps: 80, concurrency: undefined, durationMs: 1000, requests: undefined }));
    expect(report.requests.failed).toBe(0);
    expect(report.schedule_lag_ms.p50!).toBeLessThan(20);
    expect(Math.abs(report.rps_achieved - report.rps_offered!)).toBeLessThan(report.rps_offered! * 0.35);
    expect(report.timeline.length).toBeGreaterThanOrEqual(1);
    expect(report.timeline.reduce((a, t) => a + t.sent, 0)).toBe(report.requests.sent);
    expect(report.timeline.reduce((a, t) => a + t.ok, 0)).toBe(report.requests.ok);
  });

  it('stops by itself at the duration in closed loop, and the hard deadline aborts what is still in flight', async () => {
    const s = await fake(() => ({ tokens: 1, firstTokenDelayMs: 10 }));
    const t0 = performance.now();
    const { report } = await run(base([s.url], { requests: undefined, durationMs: 400, concurrency: 2 }));
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(report.requests.ok).toBeGreaterThan(5);

    const hung = await fake(() => ({ hang: true }));
    const cut = await run(base([hung.url], { requests: 3, concurrency: 3, timeoutMs: 60_000, deadlineMs: 300 }));
    expect(cut.deadlineHit).toBe(true);
    expect(cut.report.errors).toEqual({ aborted: 3 });
  });

  it('shares one seed: the same seed sends the same prompts', async () => {
    const a = await fake();
    await run(base([a.url], { workload: 'shared-prefix', requests: 6, concurrency: 1 }));
    const b = await fake();
    await run(base([b.url], { workload: 'shared-prefix', requests: 6, concurrency: 1 }));
    expect(b.requests.map((r) => r.prompt)).toEqual(a.requests.map((r) => r.prompt));
  });
});
