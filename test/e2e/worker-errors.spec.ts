import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { WorkerRegistryService } from '../../src/workers/worker-registry.service';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { testConfig } from '../support/config';
import { startWorkerCli, type WorkerCliProcess } from '../support/process';
import { ADMIN } from '../support/auth';

interface Answer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: { error?: { message: string; type: string; param: string | null; code: string }; type?: string };
}

async function post(base: string, path: string, body: object): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: JSON.parse(text) as Answer['body'] };
}

const chat = (extra: object = {}) => ({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, ...extra });

function expectNoHealthyWorker(r: Answer): void {
  expect(r.status).toBe(503);
  expect(r.contentType).toMatch(/^application\/json/);
  expect(r.retryAfter).toBe('1');
  expect(r.body.error).toMatchObject({ type: 'server_error', code: 'no_healthy_worker', param: null });
  expect(r.body.error!.message).toContain("no healthy worker is available for model 'qwen3-mock'");
}

describe('no healthy worker for the model → 503 in OpenAI shape', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { faults: { unhealthy: true } } });
  });
  afterAll(async () => c?.close());

  it('the model is known (its worker answers) but the worker reports unhealthy', async () => {
    expect((await c.client.models.list()).data.map((m) => m.id)).toEqual(['qwen3-mock']);
    const w = c.gateway.app.get(WorkerRegistryService).list()[0];
    expect(w.health).toBe('not_ready');
    expectNoHealthyWorker(await post(c.gateway.url, '/v1/chat/completions', chat()));
  });

  it('a streaming request fails before any SSE byte: the same 503 JSON, not an event stream', async () => {
    expectNoHealthyWorker(await post(c.gateway.url, '/v1/chat/completions', chat({ stream: true })));
  });

  it('completions answer the same way; Anthropic Messages in its own shape', async () => {
    expectNoHealthyWorker(await post(c.gateway.url, '/v1/completions', { model: 'qwen3-mock', prompt: 'hi', max_tokens: 3 }));
    const m = await post(c.gateway.url, '/v1/messages', { model: 'qwen3-mock', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] });
    expect(m.status).toBe(503);
    expect(m.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('the SDK surfaces it as a 503 APIError', async () => {
    const err = await c.client.chat.completions.create(chat() as never).catch((e) => e);
    expect(err.status).toBe(503);
    expect(err.code).toBe('no_healthy_worker');
  });

  it('once the worker reports healthy again the model is served; unhealthy again → 503 again', async () => {
    const worker = c.workers[0];
    const record = () => c.gateway.app.get(WorkerRegistryService).list()[0];
    worker.engine.faults.unhealthy = false;
    await waitFor(() => record().health === 'ready', 10_000, 'worker ready');
    expect((await post(c.gateway.url, '/v1/chat/completions', chat())).status).toBe(200);
    worker.engine.faults.unhealthy = true;
    await waitFor(() => record().health === 'not_ready', 10_000, 'worker not ready');
    expectNoHealthyWorker(await post(c.gateway.url, '/v1/chat/completions', chat()));
  });
});

describe('the only worker of a model dies → 503, not a 5xx crash', () => {
  let worker: WorkerCliProcess;
  let gw: RunningGateway;
  beforeAll(async () => {
    worker = await startWorkerCli(['--port', '0', '--decode-base-ms', '1']);
    gw = await startGateway(testConfig({ workerUrls: worker.urls, maxRetries: 0 }));
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await worker?.stop('SIGKILL');
  });

  it('serves, then answers 503 no_healthy_worker once health checks find the worker gone', async () => {
    expect((await post(gw.url, '/v1/chat/completions', chat())).status).toBe(200);
    await worker.stop('SIGKILL');
    const record = () => gw.app.get(WorkerRegistryService).list()[0];
    await waitFor(() => record().health !== 'ready', 10_000, 'worker no longer ready');
    expectNoHealthyWorker(await post(gw.url, '/v1/chat/completions', chat()));
  });
});

describe('a worker failing with each gRPC status → the mapped HTTP status and error type', () => {
  let c: TestCluster;
  beforeAll(async () => {
    // One worker, no retries, a circuit that never opens: every request reaches the worker and its status is the answer.
    c = await startCluster({ workers: 1, worker: { decodeBaseMs: 1 }, gateway: { maxRetries: 0, circuitFailureThreshold: 10_000 } });
  });
  afterAll(async () => c?.close());

  const CASES: [grpc: number, name: string, http: number, type: string, code: string, retryAfter: string | null][] = [
    [14, 'UNAVAILABLE', 503, 'server_error', 'worker_unavailable', '1'],
    [8, 'RESOURCE_EXHAUSTED', 429, 'rate_limit_error', 'worker_rate_limited', '1'],
    [4, 'DEADLINE_EXCEEDED', 504, 'timeout_error', 'worker_timeout', null],
    [3, 'INVALID_ARGUMENT', 400, 'invalid_request_error', 'worker_invalid_argument', null],
    [13, 'INTERNAL', 502, 'server_error', 'worker_error', null],
    [12, 'UNIMPLEMENTED', 502, 'server_error', 'worker_error', null],
    [5, 'NOT_FOUND', 502, 'server_error', 'worker_error', null],
  ];

  it.each(CASES)('gRPC %i (%s) → HTTP %i %s', async (grpc, name, http, type, code, retryAfter) => {
    const w = c.workers[0];
    w.engine.faults.failRate = 1;
    w.engine.faults.failStatus = grpc;
    try {
      for (const stream of [false, true]) {
        const r = await post(c.gateway.url, '/v1/chat/completions', chat({ stream }));
        expect(r.status, `stream=${stream}`).toBe(http);
        expect(r.retryAfter, `stream=${stream}`).toBe(retryAfter);
        expect(r.body.error).toMatchObject({ type, code });
        expect(r.body.error!.message).toContain(`worker error (${name})`);
      }
    } finally {
      w.engine.faults.failRate = 0;
    }
  });

  it("an engine's retry-after trailer reaches the client as Retry-After (whole seconds, rounded up)", async () => {
    const w = c.workers[0];
    Object.assign(w.engine.faults, { failRate: 1, failStatus: 8, retryAfterMs: 2500 });
    try {
      const r = await post(c.gateway.url, '/v1/chat/completions', chat());
      expect(r.status).toBe(429);
      expect(r.retryAfter).toBe('3');
    } finally {
      Object.assign(w.engine.faults, { failRate: 0, retryAfterMs: 0 });
    }
  });
});
