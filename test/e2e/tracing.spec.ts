import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { ADMIN } from '../support/auth';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** A minimal OTLP/HTTP JSON receiver on loopback. */
function startReceiver(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        const json = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of json.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      } catch {
        // not JSON: ignore
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans, server })));
}

describe('gateway: OpenTelemetry traces continue into the worker', () => {
  let c: TestCluster;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
    receiver = await startReceiver();
    c = await startCluster({ workers: 1, gateway: { otlpEndpoint: receiver.url } });
  });
  afterAll(async () => {
    await c?.close();
    receiver?.server.close();
  });

  it('exports request → tokenize/route/worker.generate → detokenize spans and injects traceparent into gRPC metadata', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await fetch(`${c.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01` },
      body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'trace me' }], max_tokens: 3 }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => receiver.spans.filter((s) => s.traceId === traceId).length >= 5, 10_000, 'spans exported');
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const byName = (n: string) => spans.find((s) => s.name === n)!;
    const root = spans.find((s) => s.parentSpanId === parentId)!;
    expect(root.name).toMatch(/POST \/v1\/chat\/completions/);
    for (const child of ['tokenize', 'route', 'worker.generate']) expect(byName(child).parentSpanId, child).toBe(root.spanId);
    expect(byName('detokenize').parentSpanId).toBe(byName('worker.generate').spanId);
    const route = byName('route');
    expect(route.attributes?.find((a) => a.key === 'drover.policy')).toBeTruthy();
    expect(route.attributes?.find((a) => a.key === 'drover.worker')).toBeTruthy();

    const md = c.workers[0].receivedMetadata.at(-1)!;
    expect(md.traceparent).toBe(`00-${traceId}-${byName('worker.generate').spanId}-01`);
    expect(md['x-request-id']).toBeTruthy();
  });
});
