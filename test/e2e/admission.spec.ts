import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockWorker } from '@drover/mock-worker';
import { AdmissionService } from '../../src/admission/admission.service';
import { TokenizerService } from '../../src/tokenizer/tokenizer.service';
import { VisionService } from '../../src/multimodal/vision.service';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { ADMIN } from '../support/auth';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { error?: { message: string; type: string; code: string }; choices?: unknown[] };
  ms: number;
}

async function post(base: string, path: string, body: object, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  const t0 = Date.now();
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: JSON.parse(text) as Answer['body'], ms: Date.now() - t0 };
}

const chat = (extra: object = {}) => ({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2, ...extra });

/** A streaming request that keeps its admission slot until `stop()` (the client disconnects). */
async function holdSlot(base: string): Promise<{ stop(): Promise<void> }> {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify(chat({ max_tokens: 20_000, stream: true, ignore_eos: true })),
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read(); // generation started: the slot is taken
  return {
    async stop() {
      ac.abort();
      await reader.cancel().catch(() => undefined);
    },
  };
}

describe('admission: concurrency cap with a bounded queue', () => {
  let c: TestCluster;
  const admission = () => c.gateway.app.get(AdmissionService);
  beforeAll(async () => {
    // The queue timeout leaves the test seconds to make its 429 checks while one request waits.
    c = await startCluster({ workers: 1, worker: { decodeBaseMs: 5 }, gateway: { maxConcurrentRequests: 1, maxQueuedRequests: 1, queueTimeoutMs: 3000 } });
  });
  afterAll(async () => c?.close());

  it('queue full → 429 queue_full at once with Retry-After; a request queued past the timeout → 408 queue_timeout', async () => {
    const slot = await holdSlot(c.gateway.url);
    try {
      await waitFor(() => admission().inFlight === 1, 5000, 'one request in flight');
      const queued = post(c.gateway.url, '/v1/chat/completions', chat());
      await waitFor(() => admission().queued === 1, 5000, 'one request queued');
      const full = await post(c.gateway.url, '/v1/chat/completions', chat());
      expect(full.status).toBe(429);
      expect(full.retryAfter).toBe('1');
      expect(full.body.error).toMatchObject({ type: 'rate_limit_error', code: 'queue_full' });
      // A streaming request is refused the same way, before any SSE byte.
      const fullStream = await post(c.gateway.url, '/v1/chat/completions', chat({ stream: true }));
      expect(fullStream.status).toBe(429);
      expect(fullStream.body.error?.code).toBe('queue_full');
      const timedOut = await queued;
      expect(timedOut.status).toBe(408);
      expect(timedOut.body.error).toMatchObject({ type: 'timeout_error', code: 'queue_timeout' });
      expect(timedOut.body.error!.message).toContain('3000 ms');
      expect(timedOut.ms).toBeGreaterThanOrEqual(2900);
      expect(admission().queued).toBe(0);
    } finally {
      await slot.stop();
    }
    await waitFor(() => admission().inFlight === 0, 5000, 'slot released');
    expect((await post(c.gateway.url, '/v1/chat/completions', chat())).status).toBe(200);
  });

  it('a queued request takes the slot as soon as the in-flight one ends', async () => {
    const slot = await holdSlot(c.gateway.url);
    let queued: Promise<Answer> | undefined;
    try {
      await waitFor(() => admission().inFlight === 1, 5000, 'one request in flight');
      queued = post(c.gateway.url, '/v1/chat/completions', chat());
      await waitFor(() => admission().queued === 1, 5000, 'one request queued');
    } finally {
      await slot.stop();
    }
    const served = await queued!;
    expect(served.status).toBe(200);
    expect(served.body.choices).toHaveLength(1);
    await waitFor(() => admission().inFlight === 0 && admission().queued === 0, 5000, 'admission idle');
  });

  it('a client that gives up while queued frees its place in the queue', async () => {
    const slot = await holdSlot(c.gateway.url);
    try {
      await waitFor(() => admission().inFlight === 1, 5000, 'one request in flight');
      const ac = new AbortController();
      const gone = post(c.gateway.url, '/v1/chat/completions', chat(), {}, ac.signal).catch((e: Error) => e);
      await waitFor(() => admission().queued === 1, 5000, 'one request queued');
      ac.abort();
      expect(await gone).toBeInstanceOf(Error);
      await waitFor(() => admission().queued === 0, 5000, 'queue place freed');
      // The freed place can be taken again (this one then times out: 408, not 429).
      const next = await post(c.gateway.url, '/v1/chat/completions', chat());
      expect(next.status).toBe(408);
    } finally {
      await slot.stop();
    }
  });
});

describe('admission: per-API-key rate limits', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { decodeBaseMs: 1 }, gateway: { rateLimitRpm: 3, rateLimitTpm: 40, apiKey: ['key-a', 'key-b', 'key-c'] } });
  });
  afterAll(async () => c?.close());

  // Completions with token-id prompts: the prompt's token count is exact.
  const complete = (key: string, promptTokens: number) =>
    post(c.gateway.url, '/v1/completions', { model: 'qwen3-mock', prompt: Array.from({ length: promptTokens }, (_, i) => 1000 + i), max_tokens: 1, ignore_eos: true }, { authorization: `Bearer ${key}` });

  it('TPM and RPM: 429 rate_limited with Retry-After; a request refused on tokens does not spend a request', async () => {
    const key = 'key-a';
    expect((await complete(key, 20)).status).toBe(200); // 1 request, 21 tokens (prompt + 1 completion)
    const tokens = await complete(key, 25); // 25 more tokens do not fit in the ~19 left
    expect(tokens.status).toBe(429);
    expect(tokens.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    expect(tokens.body.error!.message).toContain('tokens per minute (40)');
    expect(Number(tokens.retryAfter)).toBeGreaterThanOrEqual(1);
    // The token refusal did not use up one of the 3 requests per minute.
    expect((await complete(key, 5)).status).toBe(200);
    expect((await complete(key, 5)).status).toBe(200);
    const requests = await complete(key, 5);
    expect(requests.status).toBe(429);
    expect(requests.body.error!.message).toContain('requests per minute (3)');
    // 3 requests per minute: the next one is ~20 s away.
    expect(Number(requests.retryAfter)).toBeGreaterThanOrEqual(10);
    expect(Number(requests.retryAfter)).toBeLessThanOrEqual(20);
  });

  it('limits are per API key: another key is unaffected', async () => {
    expect((await complete('key-b', 10)).status).toBe(200);
  });

  it('a prompt larger than the whole per-minute token budget is refused as too large, not told to retry', async () => {
    const r = await complete('key-c', 50);
    expect(r.status).toBe(429);
    expect(r.body.error?.code).toBe('rate_limited');
    expect(r.body.error!.message).toMatch(/50 tokens.*limit of 40 tokens per minute/);
    expect(r.retryAfter).toBeNull();
    // It spent nothing: the key still has its full budget.
    expect((await complete('key-c', 35)).status).toBe(200);
  });
});

/**
 * Admission comes before any work on the request: a refused or queued request has not been
 * rendered, tokenized or had its images fetched, and embeddings are admitted like generation.
 */
describe('admission: before tokenizing and downloading', () => {
  let c: TestCluster;
  const work = { tokenizer: 0, images: 0 };
  const admission = () => c.gateway.app.get(AdmissionService);
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { decodeBaseMs: 5 }, gateway: { maxConcurrentRequests: 1, maxQueuedRequests: 4, queueTimeoutMs: 10_000 } });
    // And an embedding model on its own worker.
    embedder = await startMockWorker({ port: 0, model: 'qwen3-embed', embedding: true });
    await fetch(`${c.gateway.url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url: embedder.url }) });
    await waitFor(async () => ((await (await fetch(`${c.gateway.url}/v1/models`, { headers: ADMIN })).json()) as { data: { id: string }[] }).data.some((m) => m.id === 'qwen3-embed'), 10_000, 'embedding model listed');
    // Count the work each request causes: template/tokenizer lookups and image loads.
    const tokenizers = c.gateway.app.get(TokenizerService);
    const forModel = tokenizers.forModel.bind(tokenizers);
    tokenizers.forModel = (model: string) => {
      work.tokenizer++;
      return forModel(model);
    };
    const vision = c.gateway.app.get(VisionService);
    const begin = vision.begin.bind(vision);
    vision.begin = (images) => {
      work.images++;
      return begin(images);
    };
    // One key limited to 2 requests a minute (set on the key through the admin API).
    const res = await fetch(`${c.gateway.url}/admin/keys`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'rpm-2', rpm: 2 }) });
    limited = ((await res.json()) as { key: string }).key;
  });
  afterAll(async () => {
    await c?.close();
    await embedder?.close();
  });
  let limited: string;
  let embedder: Awaited<ReturnType<typeof startMockWorker>>;

  it('a request over its key\'s limit is refused with no template, tokenizer or image work', async () => {
    const as = { authorization: `Bearer ${limited}` };
    expect((await post(c.gateway.url, '/v1/chat/completions', chat(), as)).status).toBe(200);
    const e = await post(c.gateway.url, '/v1/embeddings', { model: 'qwen3-embed', input: 'embed me' }, as);
    expect(e.status, JSON.stringify(e.body)).toBe(200);
    const before = { ...work };
    for (const [path, body] of [
      ['/v1/chat/completions', chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] })],
      ['/v1/completions', { model: 'qwen3-mock', prompt: 'x'.repeat(50_000), max_tokens: 1 }],
      ['/v1/embeddings', { model: 'qwen3-embed', input: ['a', 'b'] }],
      ['/v1/responses', { model: 'qwen3-mock', input: 'hi', max_output_tokens: 1 }],
      ['/v1/messages', { model: 'qwen3-mock', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/tokenize', { model: 'qwen3-mock', prompt: 'count me' }],
      ['/v1/detokenize', { model: 'qwen3-mock', tokens: [1, 2] }],
    ] as const) {
      const r = await post(c.gateway.url, path, body, as);
      expect(r.status, path).toBe(429);
      expect(JSON.stringify(r.body), path).toContain('requests per minute (2)');
    }
    expect(work).toEqual(before);
  });

  it('tokenize and detokenize are admitted but spend none of the key\'s requests', async () => {
    const res = await fetch(`${c.gateway.url}/admin/keys`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'rpm-1', rpm: 1 }) });
    const as = { authorization: `Bearer ${((await res.json()) as { key: string }).key}` };
    for (let i = 0; i < 3; i++) {
      expect((await post(c.gateway.url, '/v1/tokenize', { model: 'qwen3-mock', prompt: `count ${i}` }, as)).status).toBe(200);
      expect((await post(c.gateway.url, '/v1/detokenize', { model: 'qwen3-mock', tokens: [1, 2, 3] }, as)).status).toBe(200);
    }
    expect((await post(c.gateway.url, '/v1/chat/completions', chat(), as)).status).toBe(200);
    expect((await post(c.gateway.url, '/v1/tokenize', { model: 'qwen3-mock', prompt: 'now refused' }, as)).status).toBe(429);
  });

  it('a queued request (generation or embedding) does no work until it has a slot', async () => {
    const slot = await holdSlot(c.gateway.url);
    try {
      await waitFor(() => admission().inFlight === 1, 5000, 'one request in flight');
      const before = { ...work };
      const chatting = post(c.gateway.url, '/v1/chat/completions', chat());
      const embedding = post(c.gateway.url, '/v1/embeddings', { model: 'qwen3-embed', input: 'queued embedding' });
      await waitFor(() => admission().queued === 2, 5000, 'chat and embedding queued');
      expect(work).toEqual(before);
      await slot.stop();
      const [a, b] = await Promise.all([chatting, embedding]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(work.tokenizer).toBeGreaterThan(before.tokenizer);
    } finally {
      await slot.stop();
    }
    await waitFor(() => admission().inFlight === 0 && admission().queued === 0, 5000, 'admission idle');
  });
});
