import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOG, RUNTIME_METRICS } from '../../src/observability/metric-catalog';
import { renderMetricsDoc } from '../../src/observability/metrics-doc';
import { CONFIG as CONFIG_TOKEN } from '../../src/runtime/tokens';
import { startCluster, type TestCluster } from '../support/cluster';
import { ADMIN } from '../support/auth';

describe('gateway: Prometheus /metrics', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 2, gateway: { metricsPort: 19000 + Math.floor(Math.random() * 1000) } });
    for (let i = 0; i < 3; i++) {
      await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `metrics ${i}` }], max_tokens: 4 });
    }
    const stream = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'stream' }], max_tokens: 4, stream: true });
    for await (const _ of stream) void _;
    await fetch(`${c.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: '{bad' });
  });
  afterAll(async () => c?.close());

  it('passes promtool check metrics on a live scrape after traffic', async () => {
    const res = await fetch(`${c.gateway.url}/metrics`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const text = await res.text();
    const file = join(mkdtempSync(join(tmpdir(), 'drover-metrics-')), 'scrape.txt');
    writeFileSync(file, text);
    // promtool reads the exposition on stdin and exits non-zero on any problem.
    const out = execFileSync('sh', ['-c', `promtool check metrics < ${file} 2>&1; echo "exit=$?"`]).toString();
    expect(out.trim().split('\n').pop()).toBe('exit=0');
    expect(text).toMatch(/drover_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"\} [1-9]/);
    expect(text).toMatch(/drover_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="400"\} 1/);
    expect(text).toMatch(/drover_inference_requests_total\{model="qwen3-mock",worker="w-[0-9a-f]+",finish_reason="(stop|length)"\} [1-9]/);
    expect(text).toMatch(/drover_inference_ttft_seconds_bucket\{[^}]*model="qwen3-mock"/);
    // Process and runtime series under their standard names (stock Node.js dashboards read them).
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) expect(text).toMatch(new RegExp(`^${name} \\S+$`, 'm'));
    expect(text).not.toContain('drover_process_');
    expect(text).toContain('drover_event_loop_utilization');
    // Our delay gauge subtracts its 1 ms sampling period, so a lightly loaded loop reads well under 10 ms.
    const p99 = text.match(/^drover_event_loop_delay_p99_seconds (\S+)$/m);
    expect(p99).not.toBeNull();
    expect(Number(p99![1])).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/drover_tokenizer_cache_misses_total\{level="l0"\} [1-9]/);
    expect(text).toMatch(/drover_tokenizer_encode_seconds_count [1-9]/);
    expect(text).toMatch(/drover_routing_tree_nodes\{model="qwen3-mock"\} [1-9]/);
    expect(text).toMatch(/drover_routing_decisions_total\{model="qwen3-mock",policy="cache_aware",outcome="(miss|cache_hit)"\} [1-9]/);
  });

  it('also serves /metrics on its own port when asked', async () => {
    const port = c.gateway.app.get(CONFIG_TOKEN).metricsPort;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('drover_http_requests_total');
  });

  it('documents every metric in docs/metrics.md, as its generator writes it', () => {
    const doc = readFileSync(join(__dirname, '../../docs/metrics.md'), 'utf8');
    for (const spec of [...METRIC_CATALOG, ...RUNTIME_METRICS]) expect(doc, spec.name).toContain(`\`${spec.name}\``);
    expect(doc, 'docs/metrics.md is generated: npm run -s build && node dist/src/observability/metrics-doc.js > docs/metrics.md').toBe(renderMetricsDoc());
  });
});
