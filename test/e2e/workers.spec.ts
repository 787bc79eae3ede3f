import { startMockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { ADMIN } from '../support/auth';
import { waitFor } from '../support/cluster';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

describe('gateway: /workers CRUD and readiness', () => {
  let gw: RunningGateway;
  let a: MockWorker;
  let b: MockWorker;
  beforeAll(async () => {
    a = await startMockWorker({ port: 0, model: 'qwen3-mock' } as never);
    b = await startMockWorker({ port: 0, model: 'qwen3-mock' } as never);
    gw = await startGateway(testConfig({ workerUrls: [] }));
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await Promise.all([a?.close(), b?.close()]);
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: body === undefined ? { ...ADMIN } : { ...ADMIN, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  it('is not ready without a healthy worker', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
    const r = await call('GET', '/readiness');
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('no_healthy_worker');
  });

  let idA = '';
  it('POST registers a worker: 201 with Location, then ready and serving its model', async () => {
    const r = await call('POST', '/workers', { url: a.url });
    expect(r.status).toBe(201);
    idA = r.body.id;
    expect(r.headers.get('location')).toBe(`/workers/${idA}`);
    expect(r.body.model).toBe('qwen3-mock');
    expect(r.body.protocol).toBe('sglang');
    await waitFor(async () => (await call('GET', '/readiness')).status === 200, 5000, 'readiness');
    const models = await call('GET', '/v1/models');
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual(['qwen3-mock']);
  });

  it('rejects a duplicate URL with 409 and a bad URL with 400', async () => {
    const dup = await call('POST', '/workers', { url: a.url });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');
    for (const url of ['not a url', 'http://', 'ftp://x:1', 'grpc://host-without-port', '']) {
      const bad = await call('POST', '/workers', { url });
      expect(bad.status, url).toBe(400);
      expect(bad.body.error.param).toBe('url');
    }
    expect((await call('POST', '/workers', { nope: 1 })).status).toBe(400);
  });

  it('GET lists and shows one; unknown id → 404', async () => {
    const list = await call('GET', '/workers');
    expect(list.body.data).toHaveLength(1);
    const one = await call('GET', `/workers/${idA}`);
    expect(one.body.url).toBe(a.url);
    expect((await call('GET', '/workers/w-unknown')).status).toBe(404);
  });

  it('PATCH merges fields, PUT replaces the spec', async () => {
    const p = await call('PATCH', `/workers/${idA}`, { labels: { zone: 'a' } });
    expect(p.status).toBe(200);
    expect(p.body.labels).toEqual({ zone: 'a' });
    const disabled = await call('PATCH', `/workers/${idA}`, { disabled: true });
    expect(disabled.body.disabled).toBe(true);
    expect((await call('GET', '/readiness')).status).toBe(503);
    const put = await call('PUT', `/workers/${idA}`, { url: a.url });
    expect(put.body.labels).toEqual({});
    expect(put.body.disabled).toBe(false);
    expect((await call('PATCH', '/workers/w-unknown', { disabled: true })).status).toBe(404);
  });

  it('DELETE drains then removes (204), after which the worker is gone', async () => {
    const rb = await call('POST', '/workers', { url: b.url });
    expect(rb.status).toBe(201);
    const del = await call('DELETE', `/workers/${idA}`);
    expect(del.status).toBe(204);
    expect((await call('GET', `/workers/${idA}`)).status).toBe(404);
    expect((await call('GET', '/workers')).body.data).toHaveLength(1);
  });

  it('readiness turns 503 while draining', async () => {
    await waitFor(async () => (await call('GET', '/readiness')).status === 200, 5000, 'ready again');
    const { LifecycleService } = await import('../../src/lifecycle/lifecycle.service');
    gw.app.get(LifecycleService).startDraining();
    const r = await call('GET', '/readiness');
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('draining');
  });
});
