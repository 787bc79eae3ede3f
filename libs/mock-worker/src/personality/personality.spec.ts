import { afterEach, describe, expect, it } from 'vitest';
import { WorkerClient, WorkerRpcError, type GenerateEvent, type KvEventBatch } from '@drover/worker-proto';
import { startMockWorker, type MockWorker, type MockWorkerOptions } from '../server/mock-server';

const started: { w: MockWorker; c?: WorkerClient }[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) {
    s.c?.close();
    await s.w.close();
  }
});

async function worker(opts: Partial<MockWorkerOptions>, apiKey?: string): Promise<{ w: MockWorker; c: WorkerClient }> {
  const w = await startMockWorker({ port: 0, decodeBaseMs: 0.2, decodePerRunningMs: 0, prefillTokensPerSec: 1e7, eosProbability: 0, ...opts });
  const entry: { w: MockWorker; c?: WorkerClient } = { w };
  started.push(entry);
  entry.c = await WorkerClient.connect(w.url, { apiKey });
  return entry as { w: MockWorker; c: WorkerClient };
}

async function collect(it: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function rpcError(p: Promise<unknown> | AsyncIterable<unknown>): Promise<WorkerRpcError> {
  try {
    if (Symbol.asyncIterator in (p as object)) for await (const _ of p as AsyncIterable<unknown>) void _;
    else await p;
  } catch (err) {
    if (err instanceof WorkerRpcError) return err;
    throw err;
  }
  throw new Error('expected a gRPC error');
}

const gen = (requestId: string, inputIds: number[], maxNewTokens = 4) => ({ requestId, inputIds, sampling: { maxNewTokens }, stream: true });

/** Subscribes and collects batches until `enough` holds (or the deadline). */
async function kvBatches(c: WorkerClient, start: number, act: () => Promise<void>, enough: (b: KvEventBatch[]) => boolean): Promise<KvEventBatch[]> {
  const ac = new AbortController();
  const got: KvEventBatch[] = [];
  const done = (async () => {
    for await (const b of c.subscribeKvEvents(start, { signal: ac.signal })) {
      got.push(b);
      if (enough(got)) break;
    }
  })();
  await new Promise((r) => setTimeout(r, 50)); // the subscription is open before the engine acts
  await act();
  const timer = setTimeout(() => ac.abort(), 3000);
  await done;
  clearTimeout(timer);
  return got;
}

describe('engine personalities', () => {
  it('sglang: model info mostly defaults (KV pool as max_context_length, max_req_input_len the real limit, no EOS, placeholder vocabulary)', async () => {
    const { c } = await worker({ engine: 'sglang', maxContextLength: 8192, kvCapacityTokens: 100_000, vision: true });
    expect(c.protocol).toBe('sglang');
    const raw = (await (c as unknown as { unary(m: string, r: unknown): Promise<any> }).unary('GetModelInfo', {})) as Record<string, any>;
    expect(raw.max_context_length).toBe(100_000);
    expect(raw.max_req_input_len).toBe(8192);
    expect(raw.eos_token_ids).toEqual([]);
    expect(raw.supports_vision).toBe(false);
    expect(raw.vocab_size).toBe(32000);
    const server = await c.getServerInfo();
    expect(server.max_total_num_tokens).toBe(100_000);
  });

  it('vllm: loads carry only request counts and token_usage', async () => {
    const { c } = await worker({ engine: 'vllm' });
    await collect(c.generate(gen('r1', Array.from({ length: 40 }, (_, i) => i))));
    const raw = (await (c as unknown as { unary(m: string, r: unknown): Promise<any> }).unary('GetLoads', {})) as { loads: Record<string, number>[] };
    const l = raw.loads[0];
    expect(l.num_used_tokens).toBe(0);
    expect(l.max_total_num_tokens).toBe(0);
    expect(l.num_waiting_uncached_tokens ?? 0).toBe(0); // not even a field of vLLM's message
    expect(l.token_usage).toBeGreaterThan(0);
  });

  it('KV events: page-size blocks (1 for sglang) with token ids, per-process opaque hashes (vllm), no replay of start_sequence_number', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => 300 + i);
    const s = await worker({ engine: 'sglang', kvGapRate: 0 });
    const batches = await kvBatches(s.c, 0, async () => void (await collect(s.c.generate(gen('a', ids, 1)))), (b) => b.some((x) => x.events.some((e) => e.kind === 'stored')));
    const stored = batches.flatMap((b) => b.events).find((e) => e.kind === 'stored');
    expect(stored && stored.kind === 'stored' && stored.blocks[0].blockSize).toBe(1);
    expect(stored && stored.kind === 'stored' && stored.blocks.slice(0, 3).map((b) => b.tokenIds)).toEqual([[300], [301], [302]]);
    expect(batches[0].dpRank).toBe(0);
    // A new subscription asking for sequence 1 gets nothing old: real servers do not replay.
    const replay = await kvBatches(s.c, 1, async () => void (await collect(s.c.generate(gen('b', [9, 9, 9], 1)))), (b) => b.length > 0);
    expect(replay[0].sequenceNumber).toBeGreaterThan(batches[batches.length - 1].sequenceNumber);

    const v1 = await worker({ engine: 'vllm', kvGapRate: 0 });
    const v2 = await worker({ engine: 'vllm', kvGapRate: 0 });
    const first = async (v: { c: WorkerClient }) => {
      const b = await kvBatches(v.c, 0, async () => void (await collect(v.c.generate(gen('x', ids, 1)))), (x) => x.some((y) => y.events.some((e) => e.kind === 'stored')));
      const e = b.flatMap((x) => x.events).find((y) => y.kind === 'stored');
      return e && e.kind === 'stored' ? e.blocks[0] : undefined;
    };
    const [b1, b2] = [await first(v1), await first(v2)];
    expect(b1?.blockSize).toBe(16);
    expect(b1?.tokenIds).toEqual(b2?.tokenIds);
    expect(b1?.blockHash).not.toBe(b2?.blockHash);
  });

  it('engine aborts end with "abort" (sglang) or "error" (vllm); the client reports them as ABORTED', async () => {
    for (const engine of ['sglang', 'vllm'] as const) {
      const { w, c } = await worker({ engine, faults: { engineAbortRate: 1 } });
      const err = await rpcError(c.generate(gen(`r-${engine}`, [1, 2, 3], 8)));
      expect(err.grpcName).toBe('ABORTED');
      expect(err.message).toContain(engine === 'sglang' ? '"abort"' : '"error"');
      expect(w.engine.runningCount).toBe(0);
    }
  });

  it('failures are INTERNAL without retry-after; too-long prompts INVALID_ARGUMENT', async () => {
    const { c } = await worker({ engine: 'sglang', maxContextLength: 16, faults: { failRate: 1, retryAfterMs: 500 } });
    const long = await rpcError(c.generate(gen('long', Array.from({ length: 17 }, (_, i) => i))));
    expect(long.grpcName).toBe('INVALID_ARGUMENT');
    const failed = await rpcError(c.generate(gen('f', [1, 2])));
    expect(failed.grpcName).toBe('INTERNAL');
    expect(failed.retryAfterMs).toBeUndefined();
  });

  it('duplicate request ids: vllm refuses the second, sglang silently takes over the first', async () => {
    const v = await worker({ engine: 'vllm', decodeBaseMs: 20 });
    const first = collect(v.c.generate(gen('dup', [1, 2, 3], 20)));
    await new Promise((r) => setTimeout(r, 30));
    const second = await rpcError(v.c.generate(gen('dup', [4, 5, 6], 2)));
    expect(second.grpcName).toBe('ALREADY_EXISTS');
    expect((await first).at(-1)).toMatchObject({ type: 'complete', finishReason: 'length' });

    const s = await worker({ engine: 'sglang', decodeBaseMs: 20 });
    const ac = new AbortController();
    let firstEvents = 0;
    const orphan = (async () => {
      for await (const _ of s.c.generate(gen('dup', [1, 2, 3], 20), { signal: ac.signal })) firstEvents++;
    })();
    await new Promise((r) => setTimeout(r, 30));
    const takeover = await collect(s.c.generate(gen('dup', [4, 5, 6], 3)));
    expect(takeover.at(-1)).toMatchObject({ type: 'complete', finishReason: 'length', completionTokens: 3 });
    const seen = firstEvents;
    // Ten more decode steps pass on the engine (another request runs to completion meanwhile).
    await collect(s.c.generate(gen('later', [7, 8, 9], 10)));
    expect(firstEvents).toBe(seen); // the first request hears nothing more, ever
    expect(firstEvents).toBeLessThan(20);
    ac.abort();
    await orphan;
  });

  it('health checks take --health-latency-ms; an API key is required in metadata when set', async () => {
    const { c } = await worker({ engine: 'sglang', healthLatencyMs: 300, apiKey: 'k3y' }, 'k3y');
    const t0 = Date.now();
    expect((await c.healthCheck()).healthy).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    const w = started[started.length - 1].w;
    const err = await WorkerClient.connect(w.url, { protocol: 'sglang', apiKey: 'wrong' }).then(
      () => undefined,
      (e: WorkerRpcError) => e,
    );
    expect(err?.grpcName).toBe('UNAUTHENTICATED');
  });
});
