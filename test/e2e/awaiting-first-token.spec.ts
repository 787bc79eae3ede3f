import { randomBytes } from 'node:crypto';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { waitFor } from '../support/cluster';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-openai-upstream';
import { freeMeshPort } from '../support/process';
import { ADMIN } from '../support/auth';

interface WorkerRow {
  id: string;
  url: string;
  health: string;
  in_flight: number;
  awaiting_first_token: number;
  mesh_in_flight: number | null;
  mesh_awaiting_first_token: number | null;
}

const KEY = randomBytes(32).toString('base64');
// ~100 prompt tokens at 100 tokens/s: about a second of prefill before the first token.
const SLOW_PREFILL = { prefillTokensPerSec: 100, decodeBaseMs: 1 };
const longPrompt = (tag: string): string => `${tag} `.repeat(90);

async function workers(gw: RunningGateway): Promise<WorkerRow[]> {
  return ((await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: WorkerRow[] }).data;
}

async function row(gw: RunningGateway, url: string): Promise<WorkerRow> {
  const w = (await workers(gw)).find((x) => x.url === url);
  if (!w) throw new Error(`worker ${url} not on ${gw.url}`);
  return w;
}

function chat(gw: RunningGateway, content: string, opts: { stream?: boolean; signal?: AbortSignal; maxTokens?: number; model?: string } = {}): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({ model: opts.model ?? 'qwen3-mock', messages: [{ role: 'user', content }], max_tokens: opts.maxTokens ?? 4, stream: opts.stream ?? false }),
    signal: opts.signal,
  });
}

const settled = async (gw: RunningGateway, what: string): Promise<void> =>
  waitFor(async () => (await workers(gw)).every((w) => w.in_flight === 0 && w.awaiting_first_token === 0), 10_000, `${what}: every counter back to 0`);

describe('workers: requests awaiting their first token (one gateway)', () => {
  let slow: MockWorker;
  let failing: MockWorker;
  let gw: RunningGateway;
  beforeAll(async () => {
    slow = await startMockWorker({ port: 0, model: 'qwen3-mock', ...SLOW_PREFILL } as never);
    failing = await startMockWorker({ port: 0, model: 'qwen3-mock', faults: { failRate: 1, failStatus: 14 } } as never);
    // Round robin: once the failing worker joins, every other request tries it first (a load- or
    // cache-aware choice may keep picking the idle slow worker when admission serialises requests).
    gw = await startGateway(testConfig({ workerUrls: [slow.url], kvEvents: false, circuitFailureThreshold: 100, policy: 'round_robin' }));
    await waitFor(async () => (await row(gw, slow.url)).health === 'ready', 10_000, 'slow worker ready');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await Promise.all([slow?.close(), failing?.close()]);
  });

  it('counts a streaming request during prefill, not after its first token, and shows it in GET /workers', async () => {
    // The SSE head goes out with the first event, so the response is awaited only after the check.
    const pending = chat(gw, longPrompt('stream'), { stream: true, maxTokens: 40 });
    await waitFor(async () => (await row(gw, slow.url)).awaiting_first_token === 1, 5000, 'awaiting 1 during prefill');
    expect((await row(gw, slow.url)).in_flight).toBe(1);
    const reader = (await pending).body!.getReader();
    // The first SSE chunk with content means the first token came back.
    let text = '';
    const dec = new TextDecoder();
    while (!text.includes('"content"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    await waitFor(async () => (await row(gw, slow.url)).awaiting_first_token === 0, 5000, 'awaiting 0 after first token');
    while (!(await reader.read()).done);
    await settled(gw, 'stream done');
  });

  it('a client that disconnects during prefill leaves nothing counted', async () => {
    const abort = new AbortController();
    const pending = chat(gw, longPrompt('abort'), { stream: true, signal: abort.signal }).catch(() => undefined);
    await waitFor(async () => (await row(gw, slow.url)).awaiting_first_token === 1, 5000, 'awaiting 1 before the abort');
    abort.abort();
    await pending;
    await settled(gw, 'client abort');
  });

  it('a worker failing before its first token (retried elsewhere) leaves nothing counted on either', async () => {
    const add = await fetch(`${gw.url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url: failing.url }) });
    expect(add.status).toBe(201);
    await waitFor(async () => (await row(gw, failing.url)).health === 'ready', 10_000, 'failing worker ready');
    // Short prompts: whichever worker is tried first, a failure on `failing` is retried on `slow`;
    // round robin sends some of the six to `failing` first.
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => chat(gw, `retry ${i}`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await settled(gw, 'retries');
    expect(await (await fetch(`${gw.url}/metrics`, { headers: ADMIN })).text()).toMatch(/drover_worker_retries_total\{[^}]*\} [1-9]/);
  });

  it('a first-token timeout (attempt abandoned, no retry left) leaves nothing counted', async () => {
    const strict = await startGateway(testConfig({ workerUrls: [slow.url], kvEvents: false, ttftTimeoutMs: 200, maxRetries: 0 }));
    try {
      await waitFor(async () => (await row(strict, slow.url)).health === 'ready', 10_000, 'worker ready on the strict gateway');
      const res = await chat(strict, longPrompt('timeout'));
      expect(res.status).toBe(504);
      await settled(strict, 'first-token timeout');
    } finally {
      await strict.shutdown(0);
    }
  });
});

describe('workers: HTTP upstreams count until their first streamed byte', () => {
  let upstream: FakeUpstream;
  let gw: RunningGateway;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ name: 'aft', model: 'http-model', behavior: { delayMs: 800 } });
    gw = await startGateway(testConfig({ workerUrls: [upstream.url] }));
    await waitFor(async () => (await row(gw, upstream.url)).health === 'ready', 10_000, 'upstream ready');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await upstream?.close();
  });

  it('a proxied stream awaits until the upstream answers, then only decodes', async () => {
    const pending = chat(gw, 'hello', { stream: true, model: 'http-model' });
    await waitFor(async () => (await row(gw, upstream.url)).awaiting_first_token === 1, 5000, 'awaiting 1 before the first byte');
    const res = await pending;
    expect(res.status).toBe(200);
    await res.text();
    await settled(gw, 'proxied stream done');
  });

  it('a client that disconnects from a hanging upstream leaves nothing counted', async () => {
    upstream.behavior.hang = true;
    try {
      const abort = new AbortController();
      const pending = chat(gw, 'hang', { stream: true, model: 'http-model', signal: abort.signal }).catch(() => undefined);
      await waitFor(async () => (await row(gw, upstream.url)).awaiting_first_token === 1, 5000, 'awaiting 1 while the upstream hangs');
      abort.abort();
      await pending;
      await settled(gw, 'client abort on an HTTP upstream');
    } finally {
      upstream.behavior.hang = false;
    }
  });
});

// Node A routes to the worker; node B learns A's queued count over the mesh load channel.
describe('mesh: load on node B reflects the requests node A has awaiting their first token', () => {
  let slow: MockWorker;
  const nodes: RunningGateway[] = [];
  beforeAll(async () => {
    slow = await startMockWorker({ port: 0, model: 'qwen3-mock', ...SLOW_PREFILL, decodeBaseMs: 50, eosProbability: 0 } as never);
    const ports = [await freeMeshPort(), await freeMeshPort()];
    const meshSeeds = ports.map((p) => `127.0.0.1:${p}`);
    for (let i = 0; i < 2; i++) {
      nodes.push(
        await startGateway(
          testConfig({ workerUrls: i === 0 ? [slow.url] : [], kvEvents: false, mesh: true, meshPort: ports[i], meshSeeds, meshKey: KEY, meshTimings: 'local', nodeName: `aft-${i}` }),
        ),
      );
    }
    await waitFor(async () => (await workers(nodes[1])).some((w) => w.url === slow.url && w.health === 'ready'), 15_000, 'worker registered on node B over the mesh');
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.shutdown(0)));
    await slow?.close();
  });

  it("B's mesh-wide load counts A's request in prefill, then drops it after the first token", async () => {
    const [a, b] = nodes;
    const pending = chat(a, longPrompt('mesh'), { maxTokens: 40 });
    await waitFor(async () => (await row(a, slow.url)).awaiting_first_token === 1, 5000, 'awaiting on A');
    await waitFor(async () => (await row(b, slow.url)).mesh_awaiting_first_token === 1, 5000, "A's queued seen on B");
    const onB = await row(b, slow.url);
    expect(onB.awaiting_first_token).toBe(0);
    expect(onB.mesh_in_flight).toBeGreaterThanOrEqual(1);
    // After the first token A still has it in flight (decoding, 50 ms a token) but no longer queued, and B sees that too.
    await waitFor(async () => {
      const w = await row(b, slow.url);
      return w.mesh_awaiting_first_token === 0 && w.mesh_in_flight === 1;
    }, 5000, 'on B: decoding, no longer queued');
    expect((await pending).status).toBe(200);
    await waitFor(async () => {
      const w = await row(b, slow.url);
      return w.mesh_in_flight === 0 && w.mesh_awaiting_first_token === 0;
    }, 5000, 'mesh-wide load back to 0 on B');
  });
});
