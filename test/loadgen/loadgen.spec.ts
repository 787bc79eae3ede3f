/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../loadgen/cli';
import { buildReport } from '../../loadgen/report';
import { runLoad, type RunConfig } from '../../loadgen/runner';
import { startFakeServer } from '../../loadgen/testing/fake-openai-server';
import { launchBrowser } from '../support/browser';
import { startCluster, type TestCluster } from '../support/cluster';
import { ADMIN, TEST_API_KEY } from '../support/auth';

const run = promisify(execFile);
const CLI = join(__dirname, '../../dist/loadgen/cli.js');

describe('loadgen against a gateway with mock workers', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 2, worker: { decodeBaseMs: 20, decodePerRunningMs: 0, eosProbability: 0 } });
  });
  afterAll(async () => c?.close());

  const base = (): RunConfig => ({ urls: [c.gateway.url], model: 'qwen3-mock', api: 'chat', stream: true, maxTokens: 8, seed: 3, timeoutMs: 10_000, workload: 'multiturn', spread: 'request', maxConnections: 32, apiKey: TEST_API_KEY });

  it('counts exactly what the workers served, and measures ITL near the engine step', async () => {
    const before = c.workers.map((w) => w.engine.loads());
    const { samples, elapsedMs, offeredRps } = await runLoad({ ...base(), concurrency: 4, requests: 24 });
    const r = buildReport(samples, elapsedMs, offeredRps, {});
    expect(r.requests).toEqual({ sent: 24, ok: 24, failed: 0 });
    const metrics = await (await fetch(`${c.gateway.url}/metrics`, { headers: ADMIN })).text();
    const served = [...metrics.matchAll(/drover_inference_requests_total\{[^}]*\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(served).toBe(24);
    expect(before.length).toBe(2);
    // The mock decodes one token per 20 ms step: inter-token latency sits at the step.
    expect(r.itl_ms.p50!).toBeGreaterThan(15);
    expect(r.itl_ms.p50!).toBeLessThan(45);
    expect(r.ttft_ms.p50!).toBeLessThan(r.e2e_ms.p50!);
    expect(r.output_tokens_per_s).toBeGreaterThan(0);
    // Multi-turn conversations reuse their prefix: the workers report cached tokens.
    expect(r.cached_token_ratio!).toBeGreaterThan(0.3);
  });

  it('runs open loop at an offered rate and reports schedule lag', async () => {
    const { samples, elapsedMs, offeredRps } = await runLoad({ ...base(), rps: 20, durationMs: 2000, workload: 'shared-prefix' });
    const r = buildReport(samples, elapsedMs, offeredRps, {});
    expect(r.requests.ok).toBe(r.requests.sent);
    expect(r.rps_offered!).toBeGreaterThan(8);
    expect(r.rps_offered!).toBeLessThan(35);
    expect(r.schedule_lag_ms.count).toBe(r.requests.sent);
    expect(r.timeline.length).toBeGreaterThanOrEqual(2);
  });

  it('classifies a failing worker as http_429', async () => {
    for (const w of c.workers) {
      w.engine.faults.failRate = 1;
      w.engine.faults.failStatus = 8;
    }
    const { samples, elapsedMs } = await runLoad({ ...base(), concurrency: 2, requests: 4, workload: 'random' });
    for (const w of c.workers) w.engine.faults.failRate = 0;
    const r = buildReport(samples, elapsedMs, null, {});
    expect(r.errors).toEqual({ http_429: 4 });
  });

  it('spreads over several URLs and breaks results down per URL', async () => {
    const { samples, elapsedMs } = await runLoad({ ...base(), urls: [c.gateway.url, `${c.gateway.url}/`], concurrency: 2, requests: 6, spread: 'request' });
    const r = buildReport(samples, elapsedMs, null, {});
    expect(Object.keys(r.per_url)).toHaveLength(2);
  });

  it('the CLI writes the documented JSON and an HTML report that renders in Chromium', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadgen-'));
    const out = await run(process.execPath, [CLI, '--url', c.gateway.url, '--api-key', TEST_API_KEY, '--model', 'qwen3-mock', '--requests', '10', '--concurrency', '3', '--max-tokens', '4', '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html'), '--quiet']);
    expect(out.stdout).toContain('requests   sent 10, ok 10');
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    for (const key of ['requests', 'ttft_ms', 'itl_ms', 'e2e_ms', 'rps_achieved', 'output_tokens_per_s', 'cached_token_ratio', 'errors', 'per_url', 'timeline']) expect(json, key).toHaveProperty(key);
    for (const key of ['p50', 'p90', 'p99']) expect(json.ttft_ms).toHaveProperty(key);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${join(dir, 'r.html')}`);
      expect(await page.textContent('#summary')).toContain('10 requests');
      for (const id of ['ttft-cdf', 'latency-over-time', 'throughput', 'errors']) expect(await page.locator(`#${id} svg`).count(), id).toBe(1);
      expect(await page.locator('#ttft-cdf polyline.series').count()).toBe(1);
    } finally {
      await browser.close();
    }
  });

  it('the CLI runs with more than ten requests in flight without a Node warning', async () => {
    // Each request holds the connection for a while, so all 16 are in flight together: one
    // listener per request on a shared AbortSignal would trip MaxListenersExceededWarning at 11.
    const fake = await startFakeServer(() => ({ firstTokenDelayMs: 150, tokenIntervalMs: 5, tokens: 3 }));
    try {
      const out = await run(process.execPath, [CLI, '--url', fake.url, '--model', 'm', '--requests', '48', '--concurrency', '16', '--max-tokens', '3', '--progress-every', '100ms']);
      expect(out.stdout).toContain('requests   sent 48, ok 48');
      expect(fake.maxConcurrent).toBeGreaterThanOrEqual(12);
      expect(out.stderr).not.toMatch(/Warning|MaxListeners/);
    } finally {
      await fake.close();
    }
  });

  it('rejects bad flags with a clear message and exit code 2', async () => {
    expect(() => parseCli(['--model', 'm', '--requests', '1'])).toThrow(/--url is required/);
    expect(() => parseCli(['--url', 'http://x', '--model', 'm'])).toThrow(/--duration or --requests/);
    expect(() => parseCli(['--url', 'http://x', '--model', 'm', '--requests', '1', '--rps', '5', '--concurrency', '2'])).toThrow(/not both/);
    expect(parseCli(['--url', 'http://x', '--model', 'm', '--duration', '5s', '--rps', '2', '--burst', '10x@1s+2s'])).toMatchObject({ config: { burst: { factor: 10, atMs: 1000, durationMs: 2000 } } });
    const err = await run(process.execPath, [CLI, '--url', 'ftp://nope', '--model', 'm', '--requests', '1']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('must be http(s)');
  });
});
