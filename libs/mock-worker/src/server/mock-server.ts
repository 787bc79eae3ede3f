import { randomUUID } from 'node:crypto';
import { Metadata, Server, ServerCredentials, status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { enginePackages, lookup, SERVICES, type WorkerProtocol } from '@drover/worker-proto';
import { SeededRng, SystemClock, SystemTimers } from '@drover/runtime';
import { MockEngine, type EngineInit, type EngineRequest, type EngineSink } from '../mock-engine';
import { KvBootstrapServer } from './kv-bootstrap-server';
import { fetchKv } from './kv-fetch';
import { DEFAULT_KV_TRANSFER, type KvTransferConfig } from '../pd/kv-transfer';
import { pdServerInfo, readPdParams, vllmTransferParams, type MockRole, type PdPlan } from '../pd/pd-request';
import { personalityFor, type EngineKind, type PersonalityContext } from '../personality/personality';
import { KvEventFeed } from '../personality/kv-feed';
import { hasApiKey } from '../personality/api-key';
import { qwen3TokenizerPath, qwen3WordVocabulary } from '../vocabulary';
import { checkVisionInputs } from './mock-vision';
import { mockModelFiles, tokenizerChunks } from './mock-model-files';
import { ConstraintError, readConstraint, type MockConstraint } from './mock-constraints';
import { mockLogprobs } from './mock-logprobs';
import { MockOutputPlanner } from './mock-output';
import { loadReplies, type ScriptedReply } from './mock-replies';

export interface MockWorkerOptions extends EngineInit {
  port: number;
  host?: string;
  model?: string;
  maxContextLength?: number;
  /** The gRPC contract served: SGLang's scheduler service (default) or vLLM's engine service. */
  protocol?: WorkerProtocol;
  /** Exit the process after this many Generate requests (chaos: a worker that dies). 0 = never. */
  crashAfterRequests?: number;
  /** Serve a vision model: GetModelInfo reports supports_vision and Generate accepts mm_inputs. */
  vision?: boolean;
  /**
   * Serve an embedding model: GetModelInfo reports is_generation false and Generate is refused
   * (INVALID_ARGUMENT); the sglang and vllm personalities also refuse Embed on a generation model.
   */
  embedding?: boolean;
  /** Keep the metadata of the last N requests (tests assert on trace propagation). */
  metadataHistory?: number;
  seed?: string;
  /**
   * A Hugging Face model directory (tokenizer.json, tokenizer_config.json, ...): the model the
   * worker serves. Output is drawn from its word tokens, EOS is its own, and GetTokenizer sends
   * these files. Default: the bundled Qwen3 tokenizer.
   */
  tokenizerDir?: string;
  /**
   * Scripted replies (or the path of a JSON-lines file of them): the first whose `match` occurs in
   * the prompt's last message is the output, tokenized with the served model's tokenizer.
   */
  replies?: ScriptedReply[] | string;
  /** The engine imitated: the mock's own behaviour (default) or SGLang's / vLLM's (sets the protocol). */
  engine?: EngineKind;
  /** Every RPC must carry `authorization: Bearer <key>` metadata (else UNAUTHENTICATED). */
  apiKey?: string;
  /** HealthCheck answers no sooner than this. */
  healthLatencyMs?: number;
  /** Chance that a KV event batch never reaches subscribers (a sequence gap); default per engine. */
  kvGapRate?: number;
  /** Disaggregation role (default regular: prefill and decode here). docs/pd.md */
  role?: MockRole;
  /** Prefill engines: the KV bootstrap server's port (default 0: a free one; reported in GetServerInfo). */
  bootstrapPort?: number;
  /** The KV transfer's cost model (prefill engines send at this rate). */
  kvTransfer?: Partial<KvTransferConfig>;
}

export interface MockWorker {
  url: string;
  port: number;
  protocol: WorkerProtocol;
  /** The engine imitated. */
  engineKind: EngineKind;
  engine: MockEngine;
  /** gRPC metadata of recent Generate calls, newest last. */
  receivedMetadata: Record<string, string>[];
  /** The wire sampling_params of recent Generate calls, as decoded, newest last (tests read fields off it). */
  receivedSampling: Record<string, unknown>[];
  /** Abort RPCs received (request ids), newest last. */
  abortsReceived: string[];
  /** Embed RPCs received (request ids), newest last. */
  embedsReceived: string[];
  role: MockRole;
  /** Prefill engines: the port of their KV bootstrap server (0 for other roles). */
  bootstrapPort: number;
  /** Disaggregated requests received (request id and transfer room), newest last. */
  pdRequests: { requestId: string; room: string }[];
  /** Prefill engines: transfers started, completed and failed at their bootstrap server. */
  kvTransfers: { started: number; completed: number; failed: number };
  close(): Promise<void>;
}

const EOS_IDS = [151645, 151643];

/**
 * Starts an SGLang-compatible (or, with `protocol: 'vllm'`, a vLLM-compatible) gRPC server backed
 * by a MockEngine on the system clock.
 */
export async function startMockWorker(opts: MockWorkerOptions): Promise<MockWorker> {
  const { port, host = '127.0.0.1', model = 'qwen3-mock', maxContextLength = 32768, crashAfterRequests = 0, vision = false, embedding = false, metadataHistory = 100, seed, tokenizerDir, replies, engine: kind = 'mock', apiKey, healthLatencyMs = 0, kvGapRate, role = 'regular', bootstrapPort: requestedBootstrapPort = 0, kvTransfer, ...engineInit } = opts;
  const personality = personalityFor(kind, opts.protocol ?? 'sglang');
  const protocol = personality.protocol;
  const vllm = protocol === 'vllm';
  const modelFiles = tokenizerDir ? mockModelFiles(tokenizerDir) : undefined;
  const eosIds = modelFiles ? modelFiles.eosTokenIds : EOS_IDS;
  const planner = new MockOutputPlanner(() => modelFiles ?? mockModelFiles(), typeof replies === 'string' ? loadReplies(replies) : (replies ?? []));
  const rng = new SeededRng(seed ?? `mock-worker:${port}:${process.pid}`);
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const engine = new MockEngine(
    { clock: new SystemClock(), timers: new SystemTimers(), rng },
    {
      vocabulary: engineInit.vocabulary ?? modelFiles?.wordIds ?? qwen3WordVocabulary(),
      ...(modelFiles && eosIds.length > 0 ? { eosTokenId: eosIds[0] } : {}),
      ...personality.engineDefaults,
      // vLLM salts its block hashes per process: a fresh salt per worker unless one is given.
      ...(kind === 'vllm' ? { kvHashSalt: randomUUID() } : {}),
      ...defined(engineInit),
      faults: { ...personality.faultDefaults, ...defined(engineInit.faults ?? {}) },
    },
  );
  const kvFeed = new KvEventFeed(engine, { replay: personality.replaysKvEvents, gapRate: kvGapRate ?? personality.kvGapRate, rng: rng.fork('kv-gaps') });
  let healthChecks = 0;
  const context = (): PersonalityContext => ({
    model,
    maxContextLength,
    vision,
    embedding,
    tokenizerPath: tokenizerDir ?? qwen3TokenizerPath(),
    vocabSize: modelFiles ? modelFiles.vocabSize : 151936,
    eosTokenIds: eosIds,
    config: engine.config,
    loads: engine.loads(),
    runningCount: engine.runningCount,
    nowSeconds: Date.now() / 1000, // allow-wallclock: the gRPC shell reports wall time
    uptimeSeconds: (Date.now() - startedAt) / 1000, // allow-wallclock
  });
  const receivedMetadata: Record<string, string>[] = [];
  const receivedSampling: Record<string, unknown>[] = [];
  const abortsReceived: string[] = [];
  const embedsReceived: string[] = [];
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const pdRequests: { requestId: string; room: string }[] = [];
  // Waits of disaggregated requests (a decode fetching its KV, a prefill waiting for the transfer): an Abort ends them.
  const pendingPd = new Map<string, () => void>();
  const bootstrap = role === 'prefill' ? new KvBootstrapServer({ ...DEFAULT_KV_TRANSFER, ...kvTransfer }, () => engine.faults.kvTransferFault) : undefined;
  const bootstrapPort = bootstrap ? await bootstrap.listen(host, requestedBootstrapPort) : 0;
  const engineId = `mock-${randomUUID()}`;
  const startedAt = Date.now(); // allow-wallclock: the gRPC shell reports wall time
  let generateCount = 0;

  const flat = (md: Metadata): Record<string, string> => Object.fromEntries(Object.entries(md.getMap()).map(([k, v]) => [k, String(v)]));
  const unauthenticated = { code: status.UNAUTHENTICATED, details: 'invalid or missing API key' };
  const unary = <Req, Res>(fn: (req: Req) => Res) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    if (!hasApiKey(call.metadata, apiKey)) return cb(unauthenticated);
    try {
      cb(null, fn(call.request));
    } catch (err) {
      cb({ code: (err as { grpcCode?: number }).grpcCode ?? status.INTERNAL, details: String(err) });
    }
  };

  const impl = {
    Generate(call: ServerWritableStream<any, any>) {
      if (!hasApiKey(call.metadata, apiKey)) return void call.emit('error', unauthenticated);
      generateCount++;
      receivedMetadata.push(flat(call.metadata));
      if (receivedMetadata.length > metadataHistory) receivedMetadata.shift();
      if (crashAfterRequests > 0 && generateCount > crashAfterRequests) {
        process.stderr.write(`mock worker on port ${port}: crashing after ${crashAfterRequests} requests (fault injection)\n`);
        process.exit(137);
      }
      const r = call.request;
      const sp = r.sampling_params ?? {};
      receivedSampling.push(sp);
      if (receivedSampling.length > metadataHistory) receivedSampling.shift();
      if (embedding) return void call.emit('error', { code: status.INVALID_ARGUMENT, details: `model ${model} is an embedding model: it does not generate` });
      const requestId: string = r.request_id || `anon-${generateCount}`;
      // Where the engine reads a seed (real SGLang never does). vLLM's GenerateResponse has no request_id.
      const seedValue = personality.seed(sp);
      const reply = (body: Record<string, unknown>) => (vllm ? body : { request_id: requestId, ...body });
      let inputIds: number[] = r.tokenized?.input_ids ?? [];
      if (r.mm_inputs) {
        const check = vision ? checkVisionInputs(r.mm_inputs, inputIds) : { ok: false as const, message: `model ${model} does not support images` };
        if (!check.ok) {
          call.emit('error', { code: status.INVALID_ARGUMENT, details: check.message });
          return;
        }
        inputIds = check.cacheIds;
      }
      if (personality.refusesLongPrompts && inputIds.length > maxContextLength) {
        call.emit('error', { code: status.INVALID_ARGUMENT, details: `The input (${inputIds.length} tokens) is longer than the model's context length (${maxContextLength} tokens).` });
        return;
      }
      let constraint: MockConstraint | undefined;
      try {
        constraint = readConstraint(sp);
      } catch (err) {
        if (!(err instanceof ConstraintError)) throw err;
        call.emit('error', { code: status.INVALID_ARGUMENT, details: err.message });
        return;
      }
      let pd: PdPlan | undefined;
      if (role !== 'regular') {
        const read = readPdParams(protocol, role, r);
        if (!read.ok) return void call.emit('error', { code: status.INVALID_ARGUMENT, details: read.message });
        pd = read.plan;
        // A vLLM prefill names the transfer itself (returned in its kv_transfer_params_json).
        pd.room ??= `${requestId}-${randomUUID().slice(0, 8)}`;
        pdRequests.push({ requestId, room: pd.room });
        if (pdRequests.length > metadataHistory) pdRequests.shift();
      }
      // SGLang: return_logprob + top_logprobs_num; vLLM: sampling_params.logprobs (its top count).
      const wantLogprobs = vllm ? sp._logprobs === 'logprobs' : r.return_logprob === true;
      const topN = Math.max(0, Number((vllm ? sp.logprobs : r.top_logprobs_num) ?? 0));
      const vocabulary = engineInit.vocabulary ?? modelFiles?.wordIds ?? qwen3WordVocabulary();
      let emitted = 0;
      let done = false;
      call.on('cancelled', () => {
        pendingPd.get(requestId)?.();
        if (done) return;
        done = true;
        engine.abort(requestId);
      });
      // Ends the request with an error, whatever stage it is in (the engine's own abort then stays silent).
      const failNow = (code: number, message: string) => {
        if (done) return;
        done = true;
        pendingPd.delete(requestId);
        engine.abort(requestId);
        if (bootstrap && pd?.room !== undefined) bootstrap.fail(pd.room, message);
        call.emit('error', { code, details: message });
      };
      const promptIds: number[] = r.tokenized?.input_ids ?? [];
      planner.script(promptIds, constraint).then(
        (script) => submit(script),
        (err: Error) => {
          done = true;
          call.emit('error', { code: status.INTERNAL, details: `could not read the prompt: ${err.message}` });
        },
      );
      const submit = (script: number[] | undefined) => {
        if (done) return;
        const request: EngineRequest = {
            requestId,
            inputIds,
            maxNewTokens: (vllm ? sp.max_tokens : sp.max_new_tokens) ?? undefined,
            minNewTokens: (vllm ? sp.min_tokens : sp.min_new_tokens) ?? 0,
            stopTokenIds: sp.stop_token_ids ?? [],
            ignoreEos: sp.ignore_eos ?? false,
            seed: typeof seedValue === 'number' ? seedValue : undefined,
            script,
          };
        const sink: EngineSink = {
            onTokens(ids, c) {
              if (done) return;
              if (role === 'prefill' && engine.faults.failBeforeFirstToken) return failNow(engine.faults.failStatus, 'injected failure after prefill, before the first token');
              const chunk: Record<string, unknown> = { token_ids: ids, prompt_tokens: c.promptTokens, completion_tokens: c.completionTokens, cached_tokens: c.cachedTokens, index: 0 };
              if (wantLogprobs) chunk.output_logprobs = mockLogprobs(ids, emitted, topN, vocabulary);
              emitted += ids.length;
              call.write(reply({ chunk }));
            },
            onComplete(res) {
              if (done) return;
              if (role === 'prefill' && pd?.room !== undefined) {
                if (res.finishReason !== 'abort') return prefillDone(pd.room, res);
                bootstrap!.fail(pd.room, 'the prefill was aborted');
              }
              done = true;
              const complete: Record<string, unknown> = {
                output_ids: r.stream ? [] : res.outputIds,
                finish_reason: res.finishReason === 'abort' ? personality.abortFinishReason : res.finishReason,
                prompt_tokens: res.promptTokens,
                completion_tokens: res.completionTokens,
                cached_tokens: res.cachedTokens,
                index: 0,
              };
              if (res.matchedTokenId !== undefined) complete.matched_token_id = res.matchedTokenId;
              if (wantLogprobs && !r.stream) complete.output_logprobs = mockLogprobs(res.outputIds, 0, topN, vocabulary);
              call.write(reply({ complete }));
              call.end();
            },
            onError(code, message) {
              if (done) return;
              done = true;
              const trailers = new Metadata();
              if (personality.sendsRetryAfter && engine.faults.retryAfterMs > 0) trailers.set('retry-after-ms', String(engine.faults.retryAfterMs));
              call.emit('error', { code, details: message, metadata: trailers });
            },
          };
        if (role === 'regular' || !pd) return engine.submit(request, sink);
        // A prefill engine computes the prompt and its first token only; the decode side generates.
        if (role === 'prefill') return engine.submit({ ...request, maxNewTokens: 1, ignoreEos: true }, sink);
        receiveKv(pd, () => engine.submit({ ...request, kvReady: true }, sink));
      };
      // Prefill done: the KV waits at the bootstrap server. SGLang's prefill request ends once the
      // decode side has it; vLLM's at once, returning what the decode side needs to fetch it.
      const prefillDone = (room: string, res: { promptTokens: number; completionTokens: number; cachedTokens: number; outputIds: number[]; finishReason: string }) => {
        bootstrap!.prefilled(room, inputIds.length);
        const complete: Record<string, unknown> = { output_ids: r.stream ? [] : res.outputIds, finish_reason: 'length', prompt_tokens: res.promptTokens, completion_tokens: res.completionTokens, cached_tokens: res.cachedTokens, index: 0 };
        if (vllm) {
          done = true;
          complete.kv_transfer_params_json = vllmTransferParams(engineId, urlHost, bootstrapPort, room, Math.ceil(inputIds.length / engine.config.blockSize));
          call.write(reply({ complete }));
          call.end();
          return;
        }
        pendingPd.set(requestId, () => failNow(status.CANCELLED, 'aborted while sending its KV cache'));
        void bootstrap!.transferred(room).then((ok) => {
          pendingPd.delete(requestId);
          if (done) return;
          if (!ok) return failNow(status.INTERNAL, 'KV transfer to the decode engine failed');
          done = true;
          call.write(reply({ complete }));
          call.end();
        });
      };
      // A decode engine first fetches the prompt's KV from the prefill's bootstrap server.
      const receiveKv = (plan: PdPlan, start: () => void) => {
        const fault = engine.faults.kvTransferFault;
        if (fault === 'fail') return failNow(status.INTERNAL, 'KV transfer from the prefill engine failed (fault injection)');
        const abort = new AbortController();
        pendingPd.set(requestId, () => abort.abort());
        if (fault === 'hang') return; // fault injection: the KV never arrives
        void fetchKv(plan.host!, plan.port!, plan.room!, abort.signal).then((got) => {
          pendingPd.delete(requestId);
          if (done) return;
          if (!got.ok) return failNow(status.INTERNAL, `KV transfer from the prefill engine failed: ${got.message}`);
          if (engine.faults.failBeforeFirstToken) return failNow(engine.faults.failStatus, 'injected failure after the KV transfer, before the first token');
          start();
        });
      };
    },
    HealthCheck(call: ServerUnaryCall<any, any>, cb: sendUnaryData<any>) {
      if (!hasApiKey(call.metadata, apiKey)) return cb(unauthenticated);
      const started = Date.now(); // allow-wallclock
      const answer = () => {
        const wait = Math.max(0, healthLatencyMs - (Date.now() - started)); // allow-wallclock
        setTimeout(() => cb(null, engine.faults.unhealthy ? { healthy: false, message: 'unhealthy (fault injection)' } : { healthy: true, message: 'ok' }), wait); // allow-wallclock
      };
      if (!personality.healthRunsGeneration) return answer();
      // SGLang checks health by generating one token through the scheduler: it queues behind load.
      engine.submit({ requestId: `HEALTH_CHECK_${port}_${++healthChecks}`, inputIds: [0], maxNewTokens: 1, ignoreEos: true }, { onTokens: () => undefined, onComplete: answer, onError: (_code, message) => cb(null, { healthy: false, message }) });
    },
    Abort: unary((req: any) => {
      // SGLang aborts one request_id; vLLM a list of request_ids and answers an empty message.
      const ids: string[] = vllm ? (req.request_ids ?? []) : [req.request_id];
      abortsReceived.push(...ids);
      const pdWaits = ids.map((id) => pendingPd.get(id)).filter((fn) => fn !== undefined);
      pdWaits.forEach((fn) => fn());
      const found = ids.map((id) => engine.abort(id)).some(Boolean) || pdWaits.length > 0;
      return vllm ? {} : { success: found, message: found ? 'aborted' : 'not found' };
    }),
    GetModelInfo: unary(() => personality.modelInfo(context())),
    GetServerInfo: unary(() => pdServerInfo(protocol, role, bootstrapPort, personality.serverInfo(context()))),
    GetLoads: unary(() => personality.loads(context())),
    FlushCache: unary(() => {
      engine.flushCache();
      return { success: true, message: 'flushed' };
    }),
    GetTokenizer(call: ServerWritableStream<any, any>) {
      if (!hasApiKey(call.metadata, apiKey)) return void call.emit('error', unauthenticated);
      if (engine.faults.tokenizerUnavailable > 0) {
        engine.faults.tokenizerUnavailable--;
        return void call.emit('error', { code: status.UNAVAILABLE, details: 'tokenizer files not ready (fault injection)' });
      }
      try {
        for (const chunk of tokenizerChunks(modelFiles ?? mockModelFiles())) call.write(chunk);
        call.end();
      } catch (err) {
        call.emit('error', { code: status.INTERNAL, details: `could not read the tokenizer files: ${(err as Error).message}` });
      }
    },
    SubscribeKvEvents(call: ServerWritableStream<any, any>) {
      if (!hasApiKey(call.metadata, apiKey)) return void call.emit('error', unauthenticated);
      const unsubscribe = kvFeed.subscribe(Number(call.request.start_sequence_number ?? 0), (wire) => call.write(wire));
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
    },
    Embed: unary((req: any) => {
      embedsReceived.push(String(req.request_id ?? ''));
      // Real engines embed only when started as an embedding model; the friendly mock embeds anyway.
      if (!embedding && kind !== 'mock') throw Object.assign(new Error(`model ${model} is a generation model: it does not embed`), { grpcCode: status.INVALID_ARGUMENT });
      if (personality.refusesLongPrompts && (req.tokenized?.input_ids ?? []).length > maxContextLength) throw Object.assign(new Error('input too long'), { grpcCode: status.INVALID_ARGUMENT });
      const ids: number[] = req.tokenized?.input_ids ?? [];
      const dim = 16;
      const v = Array.from({ length: dim }, (_, i) => Math.sin(ids.reduce((a, t, j) => a + t * (j + 1) * (i + 1), 0)));
      const norm = Math.hypot(...v) || 1;
      return { embedding_dim: dim, embedding: v.map((x) => x / norm), prompt_tokens: ids.length };
    }),
  };

  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  // vLLM's engine service has no FlushCache (grpc-js ignores handlers a service does not declare).
  server.addService(lookup(enginePackages(), SERVICES[protocol]).service, impl);
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    url: `grpc://${urlHost}:${boundPort}`,
    port: boundPort,
    protocol,
    engineKind: kind,
    engine,
    receivedMetadata,
    receivedSampling,
    abortsReceived,
    embedsReceived,
    role,
    bootstrapPort,
    pdRequests,
    kvTransfers: bootstrap?.stats ?? { started: 0, completed: 0, failed: 0 },
    close: () =>
      new Promise<void>((resolve) => {
        void bootstrap?.close();
        engine.stop();
        server.tryShutdown(() => resolve());
        setTimeout(() => { // allow-wallclock: shutdown deadline of the real server
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}
