import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/process';

// Distinctive keys, so the test can tell whether any of them ever reaches a log line.
const CLIENT_KEY = 'e2e-client-key-4f1c9a7b2d';
const ADMIN_KEY = 'e2e-admin-key-8c3e5d1f0a';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const CHAT = { model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };

describe('client API keys and the admin plane (gateway process, auth on by default)', () => {
  let worker: MockWorker;
  let gw: GatewayProcess;
  beforeAll(async () => {
    worker = await startMockWorker({ port: 0, model: 'qwen3-mock' });
    gw = await startGatewayProcess(['--worker-urls', worker.url], { DROVER_API_KEY: CLIENT_KEY, DROVER_ADMIN_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    await gw?.stop();
    await worker?.close();
  });

  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };

  const CLIENT_ROUTES: [string, string, unknown?][] = [
    ['POST', '/v1/chat/completions', CHAT],
    ['POST', '/v1/completions', { model: 'qwen3-mock', prompt: 'hi', max_tokens: 2 }],
    ['POST', '/v1/embeddings', { model: 'qwen3-mock', input: 'hi' }],
    ['POST', '/v1/responses', { model: 'qwen3-mock', input: 'hi' }],
    ['GET', '/v1/responses/resp_x'],
    ['GET', '/v1/models'],
    ['POST', '/v1/tokenize', { model: 'qwen3-mock', prompt: 'hi' }],
  ];
  const ADMIN_ROUTES: [string, string, unknown?][] = [
    ['GET', '/workers'],
    ['POST', '/workers', { url: 'grpc://127.0.0.1:1' }],
    ['DELETE', '/workers/w-1'],
    ['PUT', '/admin/policies/qwen3-mock', { policy: 'round_robin' }],
    ['GET', '/admin/routing'],
    ['POST', '/admin/keys', {}],
    ['GET', '/admin/keys'],
    ['GET', '/mesh/status'],
    ['GET', '/dashboard'],
    ['GET', '/dashboard/state'],
  ];

  it('answers 401 in OpenAI shape on every client route without a key, and Anthropic shape on /v1/messages', async () => {
    for (const [method, path, body] of CLIENT_ROUTES) {
      const r = await call(method, path, {}, body);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.json.error, `${method} ${path}`).toMatchObject({ type: 'authentication_error', code: 'unauthorized' });
      expect(r.json.error.message).toMatch(/Missing API key/);
    }
    const wrong = await call('POST', '/v1/chat/completions', bearer('not-a-key'), CHAT);
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.message).toBe('Invalid API key.');
    expect(wrong.text).not.toContain('not-a-key');
    const messages = await call('POST', '/v1/messages', { 'x-api-key': 'nope' }, { model: 'qwen3-mock', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
    expect(messages.status).toBe(401);
    expect(messages.json).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Invalid API key.' } });
  });

  it('answers 401 on every admin route without a key and 403 with a client key; the admin key opens them', async () => {
    for (const [method, path, body] of ADMIN_ROUTES) {
      expect((await call(method, path, {}, body)).status, `${method} ${path} without a key`).toBe(401);
      const asClient = await call(method, path, bearer(CLIENT_KEY), body);
      expect(asClient.status, `${method} ${path} with a client key`).toBe(403);
      expect(asClient.json.error).toMatchObject({ type: 'permission_error', code: 'forbidden' });
    }
    expect((await call('GET', '/workers', bearer(ADMIN_KEY))).status).toBe(200);
    expect((await call('GET', '/mesh/status', bearer(ADMIN_KEY))).status).toBe(200);
    // A browser gets a Basic challenge on the dashboard and answers it with the admin key.
    const challenge = await call('GET', '/dashboard');
    expect(challenge.headers.get('www-authenticate')).toMatch(/^Basic/);
    const basic = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` };
    expect((await call('GET', '/dashboard', basic)).status).toBe(200);
  });

  it('leaves the probes and (by default) /metrics open', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/readiness')).status).toBe(200);
    expect((await call('GET', '/metrics')).status).toBe(200);
  });

  it('serves the official SDKs with a bootstrap key (Bearer for OpenAI, x-api-key for Anthropic)', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const chat = await openai.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    expect(chat.choices[0].message.content).toBeTruthy();
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 });
    const msg = await anthropic.messages.create({ model: 'qwen3-mock', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content.length).toBeGreaterThan(0);
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-drv-000000000000-wrong', maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const badAnthropic = new Anthropic({ baseURL: gw.url, apiKey: 'wrong', maxRetries: 0 });
    await expect(badAnthropic.messages.create({ model: 'qwen3-mock', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('creates, lists, restricts, rotates and revokes virtual keys through the admin API', async () => {
    const created = await call('POST', '/admin/keys', bearer(ADMIN_KEY), { name: 'team-a', models: ['qwen3-mock'], metadata: { team: 'a' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { id, key } = created.json as { id: string; key: string };
    expect(key).toMatch(new RegExp(`^sk-drv-${id}-[A-Za-z0-9_-]{43}$`));
    expect(created.json).toMatchObject({ object: 'api_key', name: 'team-a', models: ['qwen3-mock'], metadata: { team: 'a' }, revoked: false });

    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })).choices).toHaveLength(1);
    // A model outside the key's list: 403, before anything is routed.
    const other = await call('POST', '/v1/chat/completions', bearer(key), { ...CHAT, model: 'another-model' });
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ type: 'permission_error', param: 'model' });
    // A virtual key is a client key: the admin plane stays closed to it.
    expect((await call('GET', '/admin/keys', bearer(key))).status).toBe(403);

    // Listings never show a key or its hash.
    const list = await call('GET', '/admin/keys', bearer(ADMIN_KEY));
    const row = list.json.data.find((k: { id: string }) => k.id === id);
    expect(row).toMatchObject({ id, name: 'team-a', revoked: false });
    expect(row.spent_tokens).toBeGreaterThan(0);
    expect(list.text).not.toContain(key);
    expect(list.text).not.toMatch(/hash/);

    const rotated = await call('POST', `/admin/keys/${id}/rotate`, bearer(ADMIN_KEY));
    expect(rotated.status).toBe(200);
    expect(rotated.json.key).not.toBe(key);
    expect((await call('GET', '/v1/models', bearer(key))).status).toBe(401);
    expect((await call('GET', '/v1/models', bearer(rotated.json.key))).status).toBe(200);

    const revoked = await call('DELETE', `/admin/keys/${id}`, bearer(ADMIN_KEY));
    expect(revoked.json).toMatchObject({ id, revoked: true });
    expect((await call('GET', '/v1/models', bearer(rotated.json.key))).status).toBe(401);
    expect((await call('POST', `/admin/keys/${id}/rotate`, bearer(ADMIN_KEY))).status).toBe(409);
    expect((await call('DELETE', '/admin/keys/000000000000', bearer(ADMIN_KEY))).status).toBe(404);
    const invalid = await call('POST', '/admin/keys', bearer(ADMIN_KEY), { rpm: -1 });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.param).toBe('rpm');
  });

  it("enforces a key's own RPM and token budget, keyed by its id", async () => {
    const limited = (await call('POST', '/admin/keys', bearer(ADMIN_KEY), { rpm: 2 })).json as { key: string };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('POST', '/v1/chat/completions', bearer(limited.key), CHAT)).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Another key is not affected by that key's limit.
    expect((await call('POST', '/v1/chat/completions', bearer(CLIENT_KEY), CHAT)).status).toBe(200);

    const budget = (await call('POST', '/admin/keys', bearer(ADMIN_KEY), { budget_tokens: 5 })).json as { key: string };
    expect((await call('POST', '/v1/chat/completions', bearer(budget.key), CHAT)).status).toBe(200);
    const over = await call('POST', '/v1/chat/completions', bearer(budget.key), CHAT);
    expect(over.status).toBe(429);
    expect(over.json.error.message).toMatch(/token budget/);
  });

  it('scopes stored responses to the key that made them, under a random id the gateway chose', async () => {
    const other = (await call('POST', '/admin/keys', bearer(ADMIN_KEY), { name: 'other' })).json as { key: string };
    const mine = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const theirs = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: other.key, maxRetries: 0 });
    // A client-chosen request id does not become the response id.
    const first = await mine.responses.create({ model: 'qwen3-mock', input: 'remember me', max_output_tokens: 3 }, { headers: { 'x-request-id': 'guessable-1' } });
    expect(first.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(first.id).not.toContain('guessable');
    // Another key cannot read, continue or delete it: to that key it does not exist.
    expect((await call('GET', `/v1/responses/${first.id}`, bearer(other.key))).status).toBe(404);
    await expect(theirs.responses.create({ model: 'qwen3-mock', input: 'x', previous_response_id: first.id, max_output_tokens: 2 })).rejects.toMatchObject({ status: 404 });
    expect((await call('DELETE', `/v1/responses/${first.id}`, bearer(other.key))).status).toBe(404);
    // Its owner still can.
    expect((await mine.responses.retrieve(first.id)).id).toBe(first.id);
    const next = await mine.responses.create({ model: 'qwen3-mock', input: 'and then?', previous_response_id: first.id, max_output_tokens: 2 });
    expect(next.previous_response_id).toBe(first.id);
    expect((await call('DELETE', `/v1/responses/${first.id}`, bearer(CLIENT_KEY))).status).toBe(200);
  });

  it('never writes a key to its logs', () => {
    const text = JSON.stringify(gw.logs) + gw.stderr();
    for (const secret of [CLIENT_KEY, ADMIN_KEY, 'sk-drv-']) expect(text).not.toContain(secret);
    expect(gw.logs.some((l) => l.msg === 'api key created' && typeof l.keyId === 'string')).toBe(true);
  });
});

describe('auth settings', () => {
  const MAIN = join(__dirname, '../../dist/src/main.js');
  const bare = { ...process.env, DROVER_API_KEY: '', DROVER_ADMIN_KEY: '' };

  it('refuses to start with auth on and no key, and says how to fix it', () => {
    const r = spawnSync(process.execPath, [MAIN, '--port', '0'], { env: bare, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no key is set.*--admin-key.*--no-auth/s);
  });

  it('--no-auth opens every route and says loudly that it is insecure', async () => {
    const gw = await startGatewayProcess(['--no-auth'], { DROVER_API_KEY: '', DROVER_ADMIN_KEY: '' });
    try {
      expect(gw.stderr()).toContain('INSECURE');
      expect(gw.logs.some((l) => l.level === 40 && String(l.msg).includes('INSECURE'))).toBe(true);
      expect((await fetch(`${gw.url}/workers`)).status).toBe(200);
      expect((await fetch(`${gw.url}/v1/models`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });

  it('--metrics-auth puts /metrics behind the admin key', async () => {
    const gw = await startGatewayProcess(['--metrics-auth'], { DROVER_API_KEY: CLIENT_KEY, DROVER_ADMIN_KEY: ADMIN_KEY });
    try {
      expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${gw.url}/metrics`, { headers: bearer(CLIENT_KEY) })).status).toBe(403);
      expect((await fetch(`${gw.url}/metrics`, { headers: bearer(ADMIN_KEY) })).status).toBe(200);
      expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
