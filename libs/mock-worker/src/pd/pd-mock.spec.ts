import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerClient, WorkerRpcError, type GenerateEvent, type GenerateParams } from '@drover/worker-proto';
import { startMockWorker, type MockWorker } from '../server/mock-server';
import { kvTransferMs } from './kv-transfer';
import { collect, until } from '../testing/spec-helpers';

const prompt = Array.from({ length: 400 }, (_, i) => 1000 + i);
const fast = { decodeBaseMs: 0.5, decodePerRunningMs: 0 };
// 400 tokens × 128 KiB at 1 Gbit/s ≈ 420 ms: long enough to see, short enough for a test.
const slowLink = { gbps: 1, latencyMs: 5, bytesPerToken: 131_072 };

const tokens = (events: GenerateEvent[]): number[] => events.flatMap((e) => (e.type === 'chunk' ? e.tokenIds : []));

describe.each(['sglang', 'vllm'] as const)('mock prefill and decode engines (%s contract)', (protocol) => {
  let prefill: MockWorker;
  let decode: MockWorker;
  let p: WorkerClient;
  let d: WorkerClient;
  beforeAll(async () => {
    prefill = await startMockWorker({ port: 0, protocol, role: 'prefill', kvTransfer: slowLink, ...fast });
    decode = await startMockWorker({ port: 0, protocol, role: 'decode', ...fast });
    [p, d] = await Promise.all([WorkerClient.connect(prefill.url), WorkerClient.connect(decode.url)]);
  });
  afterAll(async () => {
    p?.close();
    d?.close();
    await Promise.all([prefill?.close(), decode?.close()]);
  });

  /** One disaggregated request the way the contract runs it; resolves with the decode side's events. */
  async function pair(requestId: string, maxNewTokens: number, signal?: AbortSignal): Promise<{ decoded: GenerateEvent[]; prefilled: GenerateEvent[]; ms: number }> {
    const base: GenerateParams = { requestId, inputIds: prompt, sampling: { maxNewTokens, ignoreEos: true }, stream: true };
    const started = Date.now();
    if (protocol === 'sglang') {
      const disaggregation = { bootstrapHost: '127.0.0.1', bootstrapPort: prefill.bootstrapPort, bootstrapRoom: Math.floor(Math.random() * 2 ** 31) };
      const [prefilled, decoded] = await Promise.all([collect(p.generate({ ...base, disaggregation }, { signal })), collect(d.generate({ ...base, disaggregation }, { signal }))]);
      return { prefilled, decoded, ms: Date.now() - started };
    }
    const prefilled = await collect(p.generate({ ...base, sampling: { maxNewTokens: 1, ignoreEos: true }, kvTransferParamsJson: JSON.stringify({ do_remote_decode: true, do_remote_prefill: false }) }, { signal }));
    const params = prefilled.find((e) => e.type === 'complete')?.kvTransferParamsJson;
    expect(params).toBeDefined();
    const decoded = await collect(d.generate({ ...base, kvTransferParamsJson: params }, { signal }));
    return { prefilled, decoded, ms: Date.now() - started };
  }

  it('the decode engine streams the output once the KV arrived, taking at least the modelled transfer time', async () => {
    const before = prefill.kvTransfers.completed;
    const { decoded, prefilled, ms } = await pair(`ok-${protocol}`, 8);
    expect(tokens(decoded)).toHaveLength(8);
    expect(decoded.at(-1)).toMatchObject({ type: 'complete', finishReason: 'length' });
    // The prefill computes only the first token.
    expect(tokens(prefilled).length).toBeLessThanOrEqual(1);
    expect(prefill.kvTransfers.completed).toBe(before + 1);
    expect(ms).toBeGreaterThanOrEqual(kvTransferMs(prompt.length, { ...slowLink }) - 5);
    expect(decode.pdRequests.at(-1)?.requestId).toBe(`ok-${protocol}`);
    expect(decode.pdRequests.at(-1)?.room).toBe(prefill.pdRequests.at(-1)?.room);
  });

  it('a prefill or decode engine refuses a request without disaggregation parameters', async () => {
    for (const c of [p, d]) {
      const err = await collect(c.generate({ requestId: 'plain', inputIds: prompt, sampling: { maxNewTokens: 2 }, stream: true })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerRpcError);
      expect((err as WorkerRpcError).grpcName).toBe('INVALID_ARGUMENT');
    }
  });

  it('a transfer that never completes holds the decode side without a token until it is aborted; both sides hear the abort', async () => {
    prefill.engine.faults.kvTransferFault = 'hang';
    try {
      const abort = new AbortController();
      const run = pair(`hang-${protocol}`, 4, abort.signal);
      await until(() => prefill.kvTransfers.started > 0 && decode.pdRequests.some((r) => r.requestId === `hang-${protocol}`), 'transfer started');
      abort.abort();
      const { decoded } = await run;
      expect(tokens(decoded)).toHaveLength(0);
      await until(() => decode.abortsReceived.includes(`hang-${protocol}`), 'decode side aborted');
      if (protocol === 'sglang') await until(() => prefill.abortsReceived.includes(`hang-${protocol}`), 'prefill side aborted');
    } finally {
      prefill.engine.faults.kvTransferFault = 'none';
    }
  });

  it('a failed transfer fails the decode side before its first token (INTERNAL)', async () => {
    decode.engine.faults.kvTransferFault = 'fail';
    try {
      const err = await pair(`fail-${protocol}`, 4).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerRpcError);
      expect((err as WorkerRpcError).grpcName).toBe('INTERNAL');
    } finally {
      decode.engine.faults.kvTransferFault = 'none';
    }
  });

  it('fail-before-first-token on the prefill side fails the pair before any token', async () => {
    prefill.engine.faults.failBeforeFirstToken = true;
    try {
      const err = await pair(`pfail-${protocol}`, 4).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerRpcError);
    } finally {
      prefill.engine.faults.failBeforeFirstToken = false;
    }
  });

  it('reports its role where each engine does (SGLang server_args, vLLM kv_role)', async () => {
    const info = (await p.getServerInfo()) as Record<string, any>;
    if (protocol === 'sglang') {
      expect(info.server_args.fields.disaggregation_mode.stringValue).toBe('prefill');
      expect(info.server_args.fields.disaggregation_bootstrap_port.numberValue).toBe(prefill.bootstrapPort);
    } else {
      expect(info.kv_role).toBe('kv_producer');
      expect(((await d.getServerInfo()) as Record<string, any>).kv_role).toBe('kv_consumer');
    }
  });
});
