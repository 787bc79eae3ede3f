import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerClient, WorkerRpcError, type GenerateEvent } from '@drover/worker-proto';
import { startMockWorker, type MockWorker } from './mock-server';

async function collect(it: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('mock worker over real gRPC with the worker client', () => {
  let w: MockWorker;
  let client: WorkerClient;
  beforeAll(async () => {
    w = await startMockWorker({ port: 0, model: 'm1', decodeBaseMs: 0.5, decodePerRunningMs: 0 });
    client = await WorkerClient.connect(w.url);
  });
  afterAll(async () => {
    client?.close();
    await w?.close();
  });

  it('detects the SGLang contract and reads model info', async () => {
    expect(client.protocol).toBe('sglang');
    const info = await client.getModelInfo();
    expect(info.servedModelName).toBe('m1');
    expect(info.maxContextLength).toBe(32768);
    expect(info.eosTokenIds).toEqual([151645, 151643]);
    expect((await client.healthCheck()).healthy).toBe(true);
  });

  it('streams chunks with cumulative counts, then a complete; a repeated prefix is cached', async () => {
    const inputIds = Array.from({ length: 100 }, (_, i) => 500 + i);
    const first = await collect(client.generate({ requestId: 'a', inputIds, sampling: { maxNewTokens: 5, ignoreEos: true }, stream: true }));
    const chunks = first.filter((e) => e.type === 'chunk');
    expect(chunks).toHaveLength(5);
    expect(chunks.map((c) => c.completionTokens)).toEqual([1, 2, 3, 4, 5]);
    const done = first[first.length - 1];
    expect(done.type).toBe('complete');
    expect(done.type === 'complete' && done.finishReason).toBe('length');
    expect(chunks[0].cachedTokens).toBe(0);
    const second = await collect(client.generate({ requestId: 'b', inputIds, sampling: { maxNewTokens: 2, ignoreEos: true }, stream: true }));
    expect(second[0].type === 'chunk' && second[0].cachedTokens).toBe(96); // 6 full blocks of 16
  });

  it('the same prompt gives the same tokens (no seed: SGLang reads none)', async () => {
    const run = (id: string) => collect(client.generate({ requestId: id, inputIds: [1, 2, 3], sampling: { maxNewTokens: 6, ignoreEos: true }, stream: true }));
    const ids = (evs: GenerateEvent[]) => evs.flatMap((e) => (e.type === 'chunk' ? e.tokenIds : []));
    expect(ids(await run('s1'))).toEqual(ids(await run('s2')));
  });

  it('abandoning the stream sends Abort and frees the slot', async () => {
    w.engine.config.decodeBaseMs = 20;
    const it = client.generate({ requestId: 'gone', inputIds: [9, 9, 9], sampling: { maxNewTokens: 1000, ignoreEos: true }, stream: true })[Symbol.asyncIterator]();
    await it.next();
    expect(w.engine.runningCount).toBe(1);
    await it.return!(undefined);
    const deadline = Date.now() + 3000;
    while (w.engine.runningCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(w.engine.runningCount).toBe(0);
    expect((await client.getLoads()).numRunningReqs).toBe(0);
    w.engine.config.decodeBaseMs = 0.5;
  });

  it('injected failures surface as WorkerRpcError with the gRPC status', async () => {
    w.engine.faults.failRate = 1;
    w.engine.faults.failStatus = 8; // RESOURCE_EXHAUSTED
    const err = await collect(client.generate({ requestId: 'f', inputIds: [1], sampling: {}, stream: true })).catch((e) => e);
    w.engine.faults.failRate = 0;
    expect(err).toBeInstanceOf(WorkerRpcError);
    expect(err.grpcName).toBe('RESOURCE_EXHAUSTED');
  });

  it('replays KV events from a sequence number', async () => {
    const batches = [];
    const ac = new AbortController();
    for await (const b of client.subscribeKvEvents(1, { signal: ac.signal })) {
      batches.push(b);
      break;
    }
    expect(batches[0].sequenceNumber).toBe(1);
    expect(batches[0].events[0].kind).toBe('stored');
  });
});
