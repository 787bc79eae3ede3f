import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/process';
import { waitFor } from '../support/cluster';
import { ADMIN } from '../support/auth';

describe('gateway process: structured logs', () => {
  let worker: MockWorker;
  let gw: GatewayProcess;
  beforeAll(async () => {
    worker = await startMockWorker({ port: 0 });
    gw = await startGatewayProcess(['--worker-urls', worker.url, '--log-level', 'info']);
  });
  afterAll(async () => {
    await gw?.stop();
    await worker?.close();
  });

  it('logs one JSON line per request with request id, trace id, model, worker, tokens, TTFT and duration, and no prompt text', async () => {
    const secret = 'my-very-private-prompt-text';
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json', 'x-request-id': 'log-test-1', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: secret }], max_tokens: 3 }),
    });
    await waitFor(() => gw.logs.some((l) => l.clientRequestId === 'log-test-1' && l.msg === 'request done'), 5000, 'request log line');
    const line = gw.logs.find((l) => l.clientRequestId === 'log-test-1' && l.msg === 'request done')!;
    expect(line.level).toBe(30);
    // The client's x-request-id is a label; the request itself is named by the gateway's random id.
    expect(line.requestId).toMatch(/^req-[0-9a-f]{32}$/);
    expect(line.traceId).toBe(traceId);
    expect(line.model).toBe('qwen3-mock');
    expect(String(line.worker)).toMatch(/^w-/);
    expect(line.prompt).toBeGreaterThan(0);
    expect(line.completion).toBeGreaterThan(0);
    expect(typeof line.ttftMs).toBe('number');
    expect(typeof line.ms).toBe('number');
    expect(JSON.stringify(gw.logs)).not.toContain(secret);
  });

  it('logs rejected requests with their request id', async () => {
    await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json', 'x-request-id': 'log-test-2' }, body: '{"model":1}' });
    await waitFor(() => gw.logs.some((l) => l.clientRequestId === 'log-test-2'), 5000, 'rejection log line');
    expect(gw.logs.find((l) => l.clientRequestId === 'log-test-2')!.status).toBe(400);
  });

  it('exits cleanly on SIGTERM', async () => {
    const code = await gw.stop('SIGTERM');
    expect(code).toBe(0);
  });
});
