import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, type Client } from '@grpc/grpc-js';
import { enginePackages, lookup, SERVICES, WorkerClient, WorkerRpcError, type GenerateEvent } from '@drover/worker-proto';
import { startMockWorker, type MockWorker } from './mock-server';
import { collect, until } from '../testing/spec-helpers';

/** A raw grpc-js call to one fully-qualified service, to see what the server really answers. */
function rawHealthCheck(url: string, service: string): Promise<{ code?: number; healthy?: boolean }> {
  const Ctor = lookup(enginePackages(), service);
  const client = new Ctor(url.replace('grpc://', ''), credentials.createInsecure()) as Client & Record<string, any>;
  return new Promise((resolve) =>
    client.HealthCheck({}, { deadline: new Date(Date.now() + 5000) }, (err: { code: number } | null, res: { healthy: boolean }) => {
      client.close();
      resolve(err ? { code: err.code } : { healthy: res.healthy });
    }),
  );
}

describe('mock worker speaking the vLLM engine contract', () => {
  let w: MockWorker;
  let client: WorkerClient;
  beforeAll(async () => {
    w = await startMockWorker({ port: 0, model: 'm-vllm', protocol: 'vllm', maxContextLength: 4096, decodeBaseMs: 0.5, decodePerRunningMs: 0 });
    client = await WorkerClient.connect(w.url);
  });
  afterAll(async () => {
    client?.close();
    await w?.close();
  });

  it('serves only vllm.grpc.engine.VllmEngine: the SGLang service is UNIMPLEMENTED', async () => {
    expect(w.protocol).toBe('vllm');
    expect(await rawHealthCheck(w.url, SERVICES.vllm)).toEqual({ healthy: true });
    expect(await rawHealthCheck(w.url, SERVICES.sglang)).toEqual({ code: 12 }); // UNIMPLEMENTED
  });

  it('the worker client detects vLLM and reads its model info', async () => {
    expect(client.protocol).toBe('vllm');
    const info = await client.getModelInfo();
    expect(info.servedModelName).toBe('m-vllm');
    expect(info.maxContextLength).toBe(4096);
    expect(info.eosTokenIds).toEqual([151645, 151643]);
    expect(await client.healthCheck()).toEqual({ healthy: true, message: 'ok' });
    expect((await client.getServerInfo()).server_type).toBe('vllm-grpc');
    expect((await client.getLoads()).maxTotalNumTokens).toBe(w.engine.config.kvCapacityTokens);
  });

  it('forcing the SGLang contract on a vLLM worker fails with UNIMPLEMENTED', async () => {
    const err = await WorkerClient.connect(w.url, { protocol: 'sglang' }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerRpcError);
    expect(err.grpcName).toBe('UNIMPLEMENTED');
  });

  it('streams chunks with cumulative counts and a complete; max_tokens and min_tokens are honoured', async () => {
    const inputIds = Array.from({ length: 40 }, (_, i) => 700 + i);
    const events = await collect(client.generate({ requestId: 'v1', inputIds, sampling: { maxNewTokens: 4, ignoreEos: true }, stream: true }));
    const chunks = events.filter((e) => e.type === 'chunk');
    expect(chunks.map((c) => c.completionTokens)).toEqual([1, 2, 3, 4]);
    expect(chunks.every((c) => c.type === 'chunk' && c.tokenIds.length === 1 && c.promptTokens === 40)).toBe(true);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: 'complete', finishReason: 'length', promptTokens: 40, completionTokens: 4 });
    // A repeated prefix is served from the KV cache (2 full blocks of 16).
    const again = await collect(client.generate({ requestId: 'v2', inputIds, sampling: { maxNewTokens: 1, ignoreEos: true }, stream: true }));
    expect(again[0]).toMatchObject({ type: 'chunk', cachedTokens: 32 });
  });

  it('a non-streaming Generate returns the output ids in the complete', async () => {
    const events = await collect(client.generate({ requestId: 'v3', inputIds: [5, 6, 7], sampling: { maxNewTokens: 3, ignoreEos: true }, stream: false }));
    const done = events.at(-1)!;
    expect(done.type).toBe('complete');
    const streamed = events.flatMap((e) => (e.type === 'chunk' ? e.tokenIds : []));
    expect(done.type === 'complete' && done.outputIds).toEqual(streamed);
    expect(streamed).toHaveLength(3);
  });

  it("vLLM's seed field makes the output reproducible", async () => {
    const run = (id: string, seed: number) => collect(client.generate({ requestId: id, inputIds: [1, 2, 3], sampling: { maxNewTokens: 8, seed, ignoreEos: true }, stream: true }));
    const ids = (evs: GenerateEvent[]) => evs.flatMap((e) => (e.type === 'chunk' ? e.tokenIds : []));
    const a = ids(await run('seed-a', 42));
    expect(ids(await run('seed-b', 42))).toEqual(a);
    expect(ids(await run('seed-c', 43))).not.toEqual(a);
  });

  it('Abort takes the vLLM request_ids list and frees the slot', async () => {
    w.engine.config.decodeBaseMs = 20;
    try {
      const it = client.generate({ requestId: 'long-1', inputIds: [9, 9, 9], sampling: { maxNewTokens: 10_000, ignoreEos: true }, stream: true })[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ type: 'chunk' });
      expect(w.engine.runningCount).toBe(1);
      await client.abort('long-1');
      expect(w.abortsReceived.at(-1)).toBe('long-1');
      expect(w.engine.runningCount).toBe(0);
      // The engine completes an aborted request with finish_reason abort, which the client
      // reports as a failure of the call (ABORTED), not as a finished answer.
      const drain = async () => {
        for (let r = await it.next(); !r.done; r = await it.next());
      };
      await expect(drain()).rejects.toMatchObject({ grpcName: 'ABORTED' });
    } finally {
      w.engine.config.decodeBaseMs = 0.5;
    }
  });

  it('an abandoned stream (abort signal) is cancelled and aborted on the engine', async () => {
    w.engine.config.decodeBaseMs = 20;
    try {
      const ac = new AbortController();
      const seen: GenerateEvent[] = [];
      for await (const e of client.generate({ requestId: 'gone-1', inputIds: [4, 4, 4], sampling: { maxNewTokens: 10_000, ignoreEos: true }, stream: true }, { signal: ac.signal })) {
        seen.push(e);
        if (seen.length === 2) ac.abort();
      }
      expect(seen.length).toBeGreaterThanOrEqual(2);
      await until(() => w.abortsReceived.includes('gone-1'), 'Abort(gone-1) at the worker');
      await until(() => w.engine.runningCount === 0, 'slot freed');
    } finally {
      w.engine.config.decodeBaseMs = 0.5;
    }
  });

  it('FlushCache is not part of the vLLM contract', async () => {
    const err = await client.flushCache().catch((e) => e);
    expect(err).toBeInstanceOf(WorkerRpcError);
    expect(err.grpcName).toBe('UNIMPLEMENTED');
  });

  it('Embed answers in the vLLM message layout', async () => {
    const r = await client.embed('e1', [1, 2, 3]);
    expect(r.promptTokens).toBe(3);
    expect(r.embedding).toHaveLength(16);
  });

  it('replays KV events over SubscribeKvEvents', async () => {
    const ac = new AbortController();
    for await (const b of client.subscribeKvEvents(1, { signal: ac.signal })) {
      expect(b.sequenceNumber).toBe(1);
      expect(b.events[0].kind).toBe('stored');
      break;
    }
  });
});
