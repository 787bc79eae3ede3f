import OpenAI from 'openai';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { ADMIN, TEST_API_KEY } from '../support/auth';
import { waitFor } from '../support/cluster';

// Prefill/decode disaggregation end to end, over both engine contracts: two prefill and two decode
// mock engines behind one gateway, faults injected per side at run time.
const TRANSFER_TIMEOUT_MS = 1500;

// The friendly mock over each contract, and the personalities that behave like real SGLang and vLLM
// servers (INTERNAL errors, their abort and duplicate-id behaviour, SGLang's generating health check).
const SETUPS = [
  { name: 'sglang contract, mock engine', protocol: 'sglang', engine: 'mock' },
  { name: 'vllm contract, mock engine', protocol: 'vllm', engine: 'mock' },
  { name: 'sglang personality', protocol: 'sglang', engine: 'sglang' },
  { name: 'vllm personality', protocol: 'vllm', engine: 'vllm' },
] as const;

describe.each(SETUPS)('PD disaggregation: $name', ({ protocol, engine }) => {
  const prefills: MockWorker[] = [];
  const decodes: MockWorker[] = [];
  let gw: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      prefills.push(await startMockWorker({ port: 0, protocol, engine, role: 'prefill', decodeBaseMs: 1, decodePerRunningMs: 0, eosProbability: 0 }));
      decodes.push(await startMockWorker({ port: 0, protocol, engine, role: 'decode', decodeBaseMs: 1, decodePerRunningMs: 0, eosProbability: 0 }));
    }
    gw = await startGateway(
      testConfig({ prefillUrls: prefills.map((w) => w.url), decodeUrls: decodes.map((w) => w.url), kvEvents: false, kvTransferTimeoutMs: TRANSFER_TIMEOUT_MS, retryBackoffMs: 0, maxRetries: 3, circuitFailureThreshold: 100, healthCheckIntervalMs: 600_000 }),
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
    await waitFor(async () => {
      const rows = ((await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: { health: string }[] }).data;
      return rows.length === 4 && rows.every((r) => r.health === 'ready');
    }, 15_000, 'four PD workers ready');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await Promise.all([...prefills, ...decodes].map((w) => w.close()));
  });

  const retries = async (): Promise<number> => {
    const text = await (await fetch(`${gw.url}/metrics`, { headers: ADMIN })).text();
    return text.split('\n').filter((l) => l.startsWith('drover_worker_retries_total')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };
  const clearFaults = (): void => {
    for (const w of [...prefills, ...decodes]) Object.assign(w.engine.faults, { failBeforeFirstToken: false, kvTransferFault: 'none' });
  };
  /** Which engines received a request id (and with which transfer room). */
  const served = (pool: MockWorker[], id: string) => pool.flatMap((w, i) => w.pdRequests.filter((r) => r.requestId === id || r.requestId.startsWith(`${id}-pd`)).map((r) => ({ worker: i, ...r })));

  async function chat(content: string, maxTokens: number): Promise<{ id: string; text: string; finish: string | null }> {
    const { data: stream, response } = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content }], max_tokens: maxTokens, stream: true }).withResponse();
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { id: response.headers.get('x-drover-request-id')!, text, finish };
  }

  it('streams a request through one prefill and one decode worker sharing one transfer (openai SDK)', async () => {
    const r = await chat(`hello over ${protocol} `.repeat(20), 8);
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.finish).toBe('length');
    const p = served(prefills, r.id);
    const d = served(decodes, r.id);
    expect(p).toHaveLength(1);
    expect(d).toHaveLength(1);
    // SGLang: the room the gateway chose; vLLM: the transfer id the prefill returned to the decode side.
    expect(d[0].room).toBe(p[0].room);
    expect(prefills[p[0].worker].kvTransfers.completed).toBeGreaterThan(0);
    const { data: buffered, response } = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'not streamed' }], max_tokens: 5 }).withResponse();
    expect(buffered.usage?.completion_tokens).toBe(5);
    // The answer names its pair: x-drover-worker is the decode worker, x-drover-prefill-worker its prefill worker.
    const rows = ((await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: { id: string; url: string; role: string; engine_role: string | null; bootstrap_port?: number | null }[] }).data;
    const idOf = (w: MockWorker) => rows.find((r) => r.url === w.url)!.id;
    // The engines say what they are (SGLang server_args, vLLM kv_role), and it agrees with the flags.
    for (const w of [...prefills, ...decodes]) expect(rows.find((r) => r.url === w.url)).toMatchObject({ role: w.role, engine_role: w.role });
    // SGLang: the bootstrap port the engine reported is the one in use.
    if (protocol === 'sglang') for (const w of prefills) expect(rows.find((r) => r.url === w.url)?.bootstrap_port).toBe(w.bootstrapPort);
    const id = response.headers.get('x-drover-request-id')!;
    expect(response.headers.get('x-drover-worker')).toBe(idOf(decodes[served(decodes, id)[0].worker]));
    expect(response.headers.get('x-drover-prefill-worker')).toBe(idOf(prefills[served(prefills, id)[0].worker]));
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: ADMIN })).text();
    expect(metrics).toMatch(/drover_pd_kv_transfer_seconds_count\{model="qwen3-mock"\} [1-9]/);
  });

  it('chooses the prefill worker cache-aware: a conversation\'s next turn meets its prefix on the same prefill worker', async () => {
    for (let doc = 0; doc < 3; doc++) {
      const shared = `document ${doc} about ${protocol} ${engine} `.repeat(40);
      const first = await chat(`${shared} first question`, 2);
      const second = await chat(`${shared} second question`, 2);
      expect(served(prefills, second.id)[0].worker, `document ${doc}`).toBe(served(prefills, first.id)[0].worker);
    }
  });

  for (const side of ['prefill', 'decode'] as const) {
    it(`retries as a pair when the ${side} worker fails before the first token: new room, the other ${side} worker`, async () => {
      const pool = side === 'prefill' ? prefills : decodes;
      pool[0].engine.faults.failBeforeFirstToken = true;
      try {
        // Requests until one met the failing worker (routing decides who gets what).
        let hit: { id: string } | undefined;
        for (let i = 0; i < 30 && !hit; i++) {
          const r = await chat(`${side} retry ${i} `.repeat(10), 4);
          expect(r.finish).toBe('length');
          if (served(pool, r.id).some((x) => x.worker === 0)) hit = r;
        }
        expect(hit, `no request reached the failing ${side} worker`).toBeDefined();
        const p = served(prefills, hit!.id);
        const d = served(decodes, hit!.id);
        const retried = d.find((x) => x.requestId !== hit!.id);
        // The retry is a whole new pair attempt: its own engine request id, on both sides, with one room.
        expect(retried?.requestId).toMatch(new RegExp(`^${hit!.id}-pd\\d$`));
        const pRetried = p.find((x) => x.requestId === retried!.requestId)!;
        expect(pRetried.room).toBe(retried!.room);
        expect(served(pool, hit!.id).find((x) => x.requestId === retried!.requestId)?.worker).toBe(1);
        expect(new Set(d.map((x) => x.room)).size).toBe(d.length);
      } finally {
        clearFaults();
      }
    });
  }

  it('a transfer that never completes times out cleanly: 504 in the API shape, after trying every pair; both sides hear the abort', async () => {
    for (const p of prefills) p.engine.faults.kvTransferFault = 'hang';
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'never arrives' }], max_tokens: 4 }),
      });
      expect(res.status).toBe(504);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('timeout_error');
      expect(body.error.message).toMatch(/KV cache transfer/);
      const id = res.headers.get('x-drover-request-id')!;
      const attempts = served(decodes, id);
      expect(attempts.length).toBe(2); // both sides excluded after each timeout: two disjoint pairs
      for (const a of attempts) {
        await waitFor(() => decodes.some((w) => w.abortsReceived.includes(a.requestId)), 5000, `decode abort of ${a.requestId}`);
        await waitFor(() => prefills.some((w) => w.abortsReceived.includes(a.requestId)), 5000, `prefill abort of ${a.requestId}`);
      }
    } finally {
      clearFaults();
    }
  });

  it('a client abort mid-stream reaches both the decode and the prefill worker', async () => {
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'a long story' }], max_tokens: 2000, stream: true }),
      signal: abort.signal,
    });
    const id = res.headers.get('x-drover-request-id')!;
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"content"')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    await waitFor(() => decodes.some((w) => w.abortsReceived.includes(id)), 5000, 'decode side aborted');
    await waitFor(() => prefills.some((w) => w.abortsReceived.includes(id)), 5000, 'prefill side aborted');
  });

  it('a client abort while the KV is in flight reaches both sides', async () => {
    for (const p of prefills) p.engine.faults.kvTransferFault = 'hang';
    try {
      const abort = new AbortController();
      const pending = fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'left while in flight' }], max_tokens: 4, stream: true }),
        signal: abort.signal,
      }).catch(() => undefined);
      const started = prefills.reduce((n, w) => n + w.kvTransfers.started, 0);
      const before = decodes.reduce((n, w) => n + w.pdRequests.length, 0);
      await waitFor(() => decodes.reduce((n, w) => n + w.pdRequests.length, 0) > before && prefills.reduce((n, w) => n + w.kvTransfers.started, 0) > started, 5000, 'transfer under way');
      const last = decodes.flatMap((w) => w.pdRequests).at(-1)!;
      abort.abort();
      await pending;
      await waitFor(() => decodes.some((w) => w.abortsReceived.includes(last.requestId)), 5000, 'decode side aborted');
      await waitFor(() => prefills.some((w) => w.abortsReceived.includes(last.requestId)), 5000, 'prefill side aborted');
    } finally {
      clearFaults();
    }
  });

  it('a dead prefill worker, then a dead decode worker, cost no request that had not started', async () => {
    // Health checks are minutes apart here: the gateway still routes to a dead worker, and only
    // the pair retry can save the requests that meet it.
    for (const [pool, what] of [[prefills, 'prefill'], [decodes, 'decode']] as const) {
      await pool[0].close();
      const before = await retries();
      for (let i = 0; i < 30 && (await retries()) === before; i++) expect((await chat(`${i} ${what} `.repeat(1) + `w${i}z${what} `.repeat(40), 3)).finish).toBe('length');
      expect(await retries(), `no request met the dead ${what} worker`).toBeGreaterThan(before);
      for (let i = 0; i < 4; i++) expect((await chat(`more after the ${what} died ${i}`, 3)).finish).toBe('length');
    }
  });
});
