import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { waitFor } from '../support/cluster';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-openai-upstream';
import { ADMIN, CLIENT } from '../support/auth';

const MODEL = 'fake-model';

describe('gateway: OpenAI-compatible HTTP upstreams (proxied, routed on text)', () => {
  let fakes: FakeUpstream[];
  let gw: RunningGateway;
  let client: OpenAI;
  /** worker id → the fake behind it. */
  const byId = new Map<string, FakeUpstream>();

  beforeAll(async () => {
    fakes = await Promise.all([
      startFakeUpstream({ name: 'alpha', maxModelLen: 4096 }),
      // No /health at all: the gateway falls back to GET /v1/models.
      startFakeUpstream({ name: 'beta', maxModelLen: 4096, behavior: { healthStatus: 404 } }),
      startFakeUpstream({ name: 'gamma', maxModelLen: 4096 }),
    ]);
    gw = await startGateway(testConfig({ workerUrls: fakes.map((f) => f.url), retryBackoffMs: 1, retryBackoffMaxMs: 5 }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
    const workers = (await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: { id: string; url: string }[] };
    for (const w of workers.data) byId.set(w.id, fakes.find((f) => f.url === w.url)!);
    await waitFor(async () => (await workersView()).every((w) => w.health === 'ready'), 5000, 'all http workers ready');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await Promise.all((fakes ?? []).map((f) => f.close()));
  });

  const workersView = async () => ((await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: Record<string, any>[] }).data;
  const totalPosts = () => fakes.reduce((n, f) => n + f.posts().length, 0);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('registers http(s) workers with kind http, the upstream model and its max_model_len', async () => {
    const view = await workersView();
    expect(view).toHaveLength(3);
    for (const w of view) {
      expect(w.kind).toBe('http');
      expect(w.model).toBe(MODEL);
      expect(w.upstream_model).toBe(MODEL);
      expect(w.max_context_length).toBe(4096);
      expect(w.health).toBe('ready');
    }
  });

  it('lists the HTTP model in /v1/models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
    expect((models.data[0] as unknown as { max_model_len: number }).max_model_len).toBe(4096);
  });

  it('serves a non-streaming chat with the upstream content, forwarding the body, request id and trace context', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'non-streaming hello' }], max_tokens: 9, temperature: 0.5 }, { headers: { 'x-request-id': 'http-chat-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` } })
      .withResponse();
    const fake = byId.get(response.headers.get('x-drover-worker')!)!;
    expect(fake).toBeDefined();
    expect(data.choices[0].message.content).toBe(fake.answer());
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage?.prompt_tokens_details?.cached_tokens).toBe(7);
    const got = fake.posts().at(-1)!;
    expect(got.path).toBe('/v1/chat/completions');
    expect(got.body).toMatchObject({ model: MODEL, messages: [{ role: 'user', content: 'non-streaming hello' }], max_tokens: 9, temperature: 0.5 });
    // The upstream sees the gateway's own id (vLLM names its request by it), never the client's label.
    expect(got.headers['x-request-id']).toBe(response.headers.get('x-drover-request-id'));
    expect(got.headers['x-request-id']).toMatch(/^req-[0-9a-f]{32}$/);
    expect(String(got.headers.traceparent)).toContain(traceId);
    expect(response.headers.get('x-request-id')).toBe('http-chat-1');
  });

  it('forwards the client body as the bytes it sent (formatting, key order and escapes kept), not re-serialised', async () => {
    const sent = `{ "messages" : [ {"content": "caf\\u00e9 \\"bytes\\"", "role":"user"} ],\n  "model": "${MODEL}", "max_tokens": 3 }`;
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: sent });
    expect(res.status).toBe(200);
    const fake = byId.get(res.headers.get('x-drover-worker')!)!;
    const got = fake.posts().at(-1)!;
    expect(got.raw).toBe(sent);
    expect(got.body.messages[0].content).toBe('café "bytes"');
    // The answer is the upstream's JSON as it was sent (the fake writes compact JSON).
    const text = await res.text();
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    expect(JSON.parse(text).choices[0].message.content).toBe(fake.answer());
  });

  it('streams a chat: the upstream SSE events pass through, with usage and [DONE]', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'streaming hello' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const fake = byId.get(response.headers.get('x-drover-worker')!)!;
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(fake.answer());
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(4);
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(7);
  });

  it('serves completions, streaming and not', async () => {
    const { data, response } = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 5 }).withResponse();
    const fake = byId.get(response.headers.get('x-drover-worker')!)!;
    expect(data.choices[0].text).toBe(fake.answer());
    expect(fake.posts().at(-1)!.path).toBe('/v1/completions');
    expect(fake.posts().at(-1)!.body.prompt).toBe('Once upon a time');

    const { data: stream, response: r2 } = await client.completions.create({ model: MODEL, prompt: ['one', 'two'], stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(byId.get(r2.headers.get('x-drover-worker')!)!.answer());
  });

  it('proxies embeddings', async () => {
    const res = await client.embeddings.create({ model: MODEL, input: ['a', 'b'], encoding_format: 'float' });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding).toEqual([0.25, 0.5, 0.75]);
  });

  it("routes a conversation's next turn to the worker that served the first, and spreads unrelated ones", async () => {
    const system = 'You are a meticulous assistant. '.repeat(12);
    const used = new Set<string>();
    for (let c = 0; c < 12; c++) {
      const turn1 = [
        { role: 'system' as const, content: `${c}: ${system}` },
        { role: 'user' as const, content: `Conversation ${c}: tell me something long about topic ${c}.` },
      ];
      const first = await client.chat.completions.create({ model: MODEL, messages: turn1 }).withResponse();
      const w1 = first.response.headers.get('x-drover-worker')!;
      used.add(w1);
      const turn2 = [...turn1, { role: 'assistant' as const, content: first.data.choices[0].message.content! }, { role: 'user' as const, content: 'more' }];
      const second = await client.chat.completions.create({ model: MODEL, messages: turn2 }).withResponse();
      expect(second.response.headers.get('x-drover-worker'), `conversation ${c}`).toBe(w1);
    }
    expect(used.size).toBeGreaterThan(1);
  });

  /** A conversation's first turn, and the fake that now holds its prefix. */
  const openConversation = async (tag: string) => {
    const turn1 = [{ role: 'system' as const, content: `${tag} `.repeat(60) }, { role: 'user' as const, content: `question about ${tag}` }];
    const first = await client.chat.completions.create({ model: MODEL, messages: turn1 }).withResponse();
    const id = first.response.headers.get('x-drover-worker')!;
    return { id, fake: byId.get(id)!, next: [...turn1, { role: 'assistant' as const, content: 'ok' }, { role: 'user' as const, content: 'and?' }] };
  };

  it('retries a worker answering 503 on another one; the client sees success', async () => {
    const conv = await openConversation('retry-503');
    conv.fake.behavior.status = 503;
    conv.fake.behavior.retryAfter = '0';
    const before = conv.fake.posts().length;
    try {
      const res = await client.chat.completions.create({ model: MODEL, messages: conv.next }).withResponse();
      const served = res.response.headers.get('x-drover-worker')!;
      // The affine worker was tried first (it answered 503), then another one served.
      expect(conv.fake.posts().length).toBe(before + 1);
      expect(served).not.toBe(conv.id);
      expect(res.data.choices[0].message.content).toBe(byId.get(served)!.answer());
    } finally {
      conv.fake.behavior.status = undefined;
      conv.fake.behavior.retryAfter = undefined;
    }
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: ADMIN })).text();
    expect(metrics).toMatch(new RegExp(`drover_worker_retries_total\\{model="${MODEL}"\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`drover_worker_errors_total\\{worker="${conv.id}",grpc_status="UNAVAILABLE"\\} [1-9]`));
  });

  it('passes an upstream 4xx through with its status and body (not retried)', async () => {
    const before = totalPosts();
    const res = await post('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], fake_status: 422 });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/says 422/);
    expect(totalPosts()).toBe(before + 1);
  });

  it('takes a worker whose /health fails out of routing (not_ready), and back when it recovers', async () => {
    const conv = await openConversation('health');
    conv.fake.behavior.healthStatus = 500;
    try {
      await waitFor(async () => (await workersView()).find((w) => w.id === conv.id)?.health === 'not_ready', 5000, 'not_ready');
      const before = conv.fake.posts().length;
      // Even the conversation it holds the prefix of goes elsewhere.
      const res = await client.chat.completions.create({ model: MODEL, messages: conv.next }).withResponse();
      expect(res.response.headers.get('x-drover-worker')).not.toBe(conv.id);
      for (let i = 0; i < 6; i++) await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `unrelated ${i}` }] });
      expect(conv.fake.posts().length).toBe(before);
    } finally {
      conv.fake.behavior.healthStatus = conv.fake.name === 'beta' ? 404 : 200;
    }
    await waitFor(async () => (await workersView()).find((w) => w.id === conv.id)?.health === 'ready', 5000, 'ready again');
  });

  it('ends a stream that breaks upstream with an OpenAI error event and [DONE]', async () => {
    const conv = await openConversation('mid-stream');
    // Paced, so the first pieces surely left the fake before it drops the connection.
    Object.assign(conv.fake.behavior, { breakAfterPieces: 2, pieceIntervalMs: 20 });
    try {
      const res = await post('/v1/chat/completions', { model: MODEL, messages: conv.next, stream: true });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-drover-worker')).toBe(conv.id);
      const text = await res.text();
      expect(text).toContain('Answer from');
      const events = text.split('\n\n').filter(Boolean);
      expect(events.at(-1)).toBe('data: [DONE]');
      const error = JSON.parse(events.at(-2)!.slice('data: '.length)) as { error: { type: string; code: string } };
      expect(error.error.type).toBe('server_error');
      expect(error.error.code).toBe('worker_error');
    } finally {
      Object.assign(conv.fake.behavior, { breakAfterPieces: undefined, pieceIntervalMs: 0 });
    }
  });

  it('forwards SSE that arrives in chunks ending mid-event, and drops a half event when the upstream breaks inside one', async () => {
    const conv = await openConversation('split-events');
    Object.assign(conv.fake.behavior, { splitEvents: true });
    try {
      const stream = await client.chat.completions.create({ model: MODEL, messages: conv.next, stream: true, stream_options: { include_usage: true } });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect(text).toBe(conv.fake.answer());
      expect(finish).toBe('stop');
      expect(usage?.prompt_tokens_details?.cached_tokens).toBe(7);

      Object.assign(conv.fake.behavior, { breakAfterPieces: 2 });
      const res = await post('/v1/chat/completions', { model: MODEL, messages: conv.next, stream: true });
      const events = (await res.text()).split('\n\n').filter(Boolean);
      expect(events.at(-1)).toBe('data: [DONE]');
      // Every event before [DONE] is whole JSON: the half event never reached the client.
      const parsed = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as { error?: { code: string }; choices?: { delta: { content?: string } }[] });
      expect(parsed.at(-1)?.error?.code).toBe('worker_error');
      expect(parsed.slice(0, -1).map((c) => c.choices?.[0]?.delta?.content ?? '').join('')).toBe(conv.fake.answer(2));
    } finally {
      Object.assign(conv.fake.behavior, { splitEvents: undefined, breakAfterPieces: undefined });
    }
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    for (const f of fakes) Object.assign(f.behavior, { pieces: 400, pieceIntervalMs: 10 });
    try {
      const controller = new AbortController();
      const { data: stream, response } = await client.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: 'a very long answer please' }], stream: true }, { signal: controller.signal, headers: { 'x-request-id': 'http-abort-1' } })
        .withResponse();
      const gatewayId = response.headers.get('x-drover-request-id');
      let chunks = 0;
      try {
        for await (const _ of stream) if (++chunks === 3) controller.abort();
      } catch {
        // the SDK may end the iteration or throw an abort error; either way the client is gone
      }
      expect(chunks).toBeGreaterThanOrEqual(3);
      const upstream = () => fakes.flatMap((f) => f.posts()).find((r) => r.headers['x-request-id'] === gatewayId);
      await waitFor(() => upstream()?.closedEarly === true, 5000, 'upstream connection closed');
      expect(upstream()!.finished).toBe(false);
    } finally {
      for (const f of fakes) Object.assign(f.behavior, { pieces: 4, pieceIntervalMs: 0 });
    }
  });

  it('rejects bad input with the gateway 400 without reaching any upstream', async () => {
    const before = totalPosts();
    const cases: [string, unknown, string | null][] = [
      ['/v1/chat/completions', { model: MODEL, messages: 'nope' }, 'messages'],
      ['/v1/chat/completions', { model: MODEL }, 'messages'],
      ['/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 7 }, 'temperature'],
      ['/v1/completions', { model: MODEL, prompt: 42 }, 'prompt'],
      ['/v1/embeddings', { model: MODEL }, 'input'],
    ];
    for (const [path, body, param] of cases) {
      const res = await post(path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = ((await res.json()) as { error: { type: string; param: string | null } }).error;
      expect(err.type).toBe('invalid_request_error');
      expect(err.param).toBe(param);
    }
    const broken = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: '{"model":' });
    expect(broken.status).toBe(400);
    expect(totalPosts()).toBe(before);
  });

  it('answers APIs that need a gRPC worker with a clear 400 for the HTTP-only model', async () => {
    const before = totalPosts();
    const messages = await post('/v1/messages', { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(messages.status).toBe(400);
    expect(((await messages.json()) as { error: { message: string } }).error.message).toMatch(/needs a gRPC worker/);
    // Counting with the gateway's tokenizer would be a guess for a model it does not tokenize.
    const counted = await post('/v1/messages/count_tokens', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(counted.status).toBe(400);
    expect(await counted.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/needs a gRPC worker/) } });
    for (const [path, body] of [
      ['/v1/responses', { model: MODEL, input: 'hi' }],
      ['/v1/tokenize', { model: MODEL, prompt: 'hi' }],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, path).toBe(400);
      const err = ((await res.json()) as { error: { message: string; param: string } }).error;
      expect(err.message).toMatch(/needs a gRPC worker/);
      expect(err.param).toBe('model');
    }
    expect(totalPosts()).toBe(before);
  });

  it('still answers 404 for an unknown model', async () => {
    const res = await post('/v1/chat/completions', { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(404);
  });
});

describe('gateway: HTTP upstreams under another model name, and the first-byte timeout', () => {
  let fakes: FakeUpstream[];
  let gw: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    fakes = await Promise.all([startFakeUpstream({ name: 'one' }), startFakeUpstream({ name: 'two' })]);
    gw = await startGateway(testConfig({ workerUrls: fakes.map((f) => f.url), modelName: 'alias', ttftTimeoutMs: 400, retryBackoffMs: 1, retryBackoffMaxMs: 5 }));
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
    await waitFor(async () => ((await (await fetch(`${gw.url}/readiness`, { headers: ADMIN })).status) === 200), 5000, 'ready');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await Promise.all((fakes ?? []).map((f) => f.close()));
  });

  it('serves the upstream model under --model-name: the upstream sees its own name, the client the alias', async () => {
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['alias']);
    const res = await client.chat.completions.create({ model: 'alias', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.model).toBe('alias');
    expect(res.choices[0].message.content).toMatch(/^Answer from (one|two)/);
    const stream = await client.chat.completions.create({ model: 'alias', messages: [{ role: 'user', content: 'hi again' }], stream: true });
    const models = new Set<string>();
    for await (const chunk of stream) models.add(chunk.model);
    expect([...models]).toEqual(['alias']);
    const sent = fakes.flatMap((f) => f.posts());
    expect(sent.length).toBe(2);
    for (const r of sent) expect(r.body.model).toBe('fake-model');
  });

  it('abandons an upstream that sends no first byte within --ttft-timeout-ms and retries on the other', async () => {
    // The first turn makes one worker hold the conversation; it then hangs, so the next turn
    // (routed to it for its prefix) must time out there and be served by the other.
    const turn1 = [{ role: 'system' as const, content: 'ttft '.repeat(80) }, { role: 'user' as const, content: 'first' }];
    const first = await client.chat.completions.create({ model: 'alias', messages: turn1 }).withResponse();
    const hung = fakes.find((f) => first.data.choices[0].message.content!.startsWith(`Answer from ${f.name}`))!;
    const healthy = fakes.find((f) => f !== hung)!;
    const before = hung.posts().length;
    hung.behavior.hang = true;
    try {
      const started = Date.now();
      const { data, response } = await client.chat.completions
        .create({ model: 'alias', messages: [...turn1, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'next' }], stream: true })
        .withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe(healthy.answer());
      expect(response.headers.get('x-drover-worker')).not.toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      // The hung worker got the request first, and the gateway cut that connection.
      await waitFor(() => hung.posts().length === before + 1 && hung.posts()[before].closedEarly, 5000, 'hung request aborted');
    } finally {
      hung.behavior.hang = false;
    }
  });
});

describe('gateway: an HTTP upstream that stalls mid-stream', () => {
  let fake: FakeUpstream;
  let gw: RunningGateway;

  beforeAll(async () => {
    fake = await startFakeUpstream({ name: 'stall', behavior: { pieces: 6, stallAfterPieces: 2 } });
    gw = await startGateway(testConfig({ workerUrls: [fake.url], streamIdleTimeoutMs: 300 }));
    await waitFor(async () => ((await (await fetch(`${gw.url}/readiness`, { headers: ADMIN })).status) === 200), 5000, 'ready');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await fake?.close();
  });

  it('ends the client stream with a timeout error event and [DONE] after --stream-idle-timeout-ms, and closes the upstream', async () => {
    const started = Date.now();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'stall please' }], stream: true }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    expect(JSON.parse(events[0]).choices[0].delta.content).toBe('Answer from stall');
    const error = JSON.parse(events.at(-2)!);
    expect(error.error.message).toMatch(/sent nothing for 300 ms/);
    await waitFor(() => fake.posts().length === 1 && fake.posts()[0].closedEarly, 5000, 'upstream request closed');
  });
});
