import { randomBytes } from 'node:crypto';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { ADMIN } from '../support/auth';
import { waitFor } from '../support/cluster';
import { freeMeshPort } from '../support/process';

interface Row {
  id: string;
  url: string;
  role: string;
  engine_role?: string | null;
  bootstrap_port?: number | null;
}

const KEY = randomBytes(32).toString('base64');

async function call(gw: RunningGateway, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { ...ADMIN, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const rows = async (gw: RunningGateway): Promise<Row[]> => (await call(gw, 'GET', '/workers')).body.data as Row[];

describe('worker roles: flags, POST /workers, GET /workers, replicated over the mesh', () => {
  const mocks: MockWorker[] = [];
  let a: RunningGateway;
  let b: RunningGateway;
  beforeAll(async () => {
    // A real prefill and decode engine pair, a regular engine, and one more regular engine for the API tests.
    mocks.push(await startMockWorker({ port: 0, model: 'qwen3-mock', role: 'prefill', decodeBaseMs: 1 }));
    mocks.push(await startMockWorker({ port: 0, model: 'qwen3-mock', role: 'decode', decodeBaseMs: 1 }));
    for (let i = 0; i < 2; i++) mocks.push(await startMockWorker({ port: 0, model: 'qwen3-mock' }));
    const [pa, pb] = [await freeMeshPort(), await freeMeshPort()];
    const seeds = [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`];
    const mesh = { mesh: true, meshKey: KEY, meshTimings: 'local' as const, meshSeeds: seeds, kvEvents: false };
    a = await startGateway(testConfig({ ...mesh, meshPort: pa, nodeName: 'a', prefillUrls: [mocks[0].url], decodeUrls: [mocks[1].url], workerUrls: [mocks[2].url] }));
    b = await startGateway(testConfig({ ...mesh, meshPort: pb, nodeName: 'b' }));
  });
  afterAll(async () => {
    await Promise.all([a?.shutdown(0), b?.shutdown(0)]);
    await Promise.all(mocks.map((m) => m.close()));
  });

  it('--prefill-urls and --decode-urls register workers with their role; --worker-urls ones are regular', async () => {
    const byUrl = new Map((await rows(a)).map((r) => [r.url, r]));
    expect(byUrl.get(mocks[0].url)?.role).toBe('prefill');
    expect(byUrl.get(mocks[1].url)?.role).toBe('decode');
    expect(byUrl.get(mocks[2].url)?.role).toBe('regular');
    expect(byUrl.get(mocks[2].url)?.bootstrap_port).toBeUndefined();
    // The engine's own answer is shown beside the registered role.
    expect(byUrl.get(mocks[0].url)?.engine_role).toBe('prefill');
    expect(byUrl.get(mocks[2].url)?.engine_role).toBe('regular');
  });

  it('the other node serves the model as PD pairs through the replicated roles', async () => {
    await waitFor(async () => (await rows(b)).filter((r) => [mocks[0].url, mocks[1].url].includes(r.url) && (r as unknown as { health: string }).health === 'ready').length === 2, 15_000, 'pair ready on b');
    const res = await fetch(`${b.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'served by a pair via the mesh' }], max_tokens: 3 }),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-drover-request-id')!;
    expect(mocks[0].pdRequests.map((r) => r.requestId)).toContain(id);
    expect(mocks[1].pdRequests.map((r) => r.requestId)).toContain(id);
    expect(mocks[2].receivedSampling).toHaveLength(0); // the regular engine is not part of a PD model's service
  });

  it('POST /workers takes a role and a prefill bootstrap port; both replicate to the other node', async () => {
    const created = await call(a, 'POST', '/workers', { url: mocks[3].url, role: 'prefill', bootstrapPort: 9123 });
    expect(created.status).toBe(201);
    expect(created.body.role).toBe('prefill');
    expect(created.body.bootstrap_port).toBe(9123);
    await waitFor(async () => (await rows(b)).length === 4, 15_000, 'registry replicated to b');
    const onB = new Map((await rows(b)).map((r) => [r.url, r]));
    expect(onB.get(mocks[0].url)?.role).toBe('prefill');
    expect(onB.get(mocks[1].url)?.role).toBe('decode');
    expect(onB.get(mocks[2].url)?.role).toBe('regular');
    expect(onB.get(mocks[3].url)).toMatchObject({ role: 'prefill', bootstrap_port: 9123 });
  });

  it('PATCH changes a role, and the change replicates', async () => {
    const id = (await rows(a)).find((r) => r.url === mocks[3].url)!.id;
    const patched = await call(a, 'PATCH', `/workers/${id}`, { role: 'decode', bootstrapPort: undefined });
    expect(patched.status, JSON.stringify(patched.body)).toBe(400); // the bootstrap port stays: decode workers have none
    const replaced = await call(a, 'PUT', `/workers/${id}`, { url: mocks[3].url, role: 'decode' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.role).toBe('decode');
    await waitFor(async () => (await rows(b)).find((r) => r.url === mocks[3].url)?.role === 'decode', 15_000, 'role change replicated');
  });

  it('refuses an unknown role, a role on an HTTP worker, and a bootstrap port on a non-prefill worker (400 in API shape)', async () => {
    for (const body of [
      { url: 'grpc://127.0.0.1:1', role: 'both' },
      { url: 'http://127.0.0.1:1', role: 'prefill' },
      { url: 'grpc://127.0.0.1:1', role: 'decode', bootstrapPort: 8998 },
      { url: 'grpc://127.0.0.1:1', bootstrapPort: 8998 },
    ]) {
      const r = await call(a, 'POST', '/workers', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.type).toBe('invalid_request_error');
    }
  });
});
