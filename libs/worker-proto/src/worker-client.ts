import { credentials, Metadata, status, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { WorkerRpcError } from './errors';
import { callEvents } from './call-events';
import { enginePackages, lookup, SERVICES } from './proto-loader';
import type { CallOptions, GenerateEvent, GenerateParams, KvEventBatch, ModelInfo, WorkerLoad, WorkerProtocol } from './types';
import { collectTokenizerArchive } from './tokenizer-download';
import { fromGenerateResponse, fromKvBatch, fromLoads, fromModelInfo, toGenerateRequest } from './wire-mapping';

const DEFAULT_UNARY_DEADLINE_MS = 5000;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

interface ParsedUrl {
  target: string;
  tls: boolean;
}

export function parseWorkerUrl(url: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WorkerRpcError(status.INVALID_ARGUMENT, `invalid worker URL '${url}'`);
  }
  if (u.protocol !== 'grpc:' && u.protocol !== 'grpcs:') throw new WorkerRpcError(status.INVALID_ARGUMENT, `worker URL '${url}' must use grpc:// or grpcs://`);
  if (!u.hostname || !u.port) throw new WorkerRpcError(status.INVALID_ARGUMENT, `worker URL '${url}' needs host:port`);
  return { target: u.host, tls: u.protocol === 'grpcs:' };
}

function metadataOf(opts: CallOptions | undefined, apiKey: string | undefined): Metadata {
  const md = new Metadata();
  const given = opts?.metadata;
  if (given) for (const k in given) md.set(k, given[k]);
  // After the caller's metadata: a client header can never replace the worker's key.
  if (apiKey) md.set('authorization', `Bearer ${apiKey}`);
  return md;
}

/** Finish reasons an engine uses for a request it ended itself (SGLang 'abort', vLLM 'error'). */
const ENGINE_ABORTS = new Set(['abort', 'error']);
const REFUSALS = new Set([status.INVALID_ARGUMENT, status.ALREADY_EXISTS, status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.FAILED_PRECONDITION]);

function deadlineOf(opts: CallOptions | undefined, fallbackMs: number): Date {
  return new Date(Date.now() + (opts?.deadlineMs ?? fallbackMs));
}

/**
 * One engine over gRPC: one channel, a deadline on every call, metadata passed through, and a
 * Generate stream that, when abandoned (signal or early return), is cancelled and followed by
 * Abort(request_id) so the engine frees the slot.
 */
export class WorkerClient {
  private constructor(
    readonly url: string,
    readonly protocol: WorkerProtocol,
    private readonly client: Client & Record<string, any>,
    private readonly apiKey: string | undefined,
  ) {}

  /** Connects and detects the contract ('auto': HealthCheck on each fully-qualified service). */
  static async connect(url: string, opts: { protocol?: WorkerProtocol | 'auto'; timeoutMs?: number; apiKey?: string } = {}): Promise<WorkerClient> {
    const { target, tls } = parseWorkerUrl(url);
    const creds = tls ? credentials.createSsl() : credentials.createInsecure();
    const channelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
      // Per-call costs we do not need: channelz keeps per-call counters and timestamps, and the
      // retry layer buffers every message for a replay the gateway never asks for (it retries on
      // another worker itself, see InferenceService).
      'grpc.enable_channelz': 0,
      'grpc.enable_retries': 0,
    };
    const pkg = enginePackages();
    const make = (p: WorkerProtocol) => {
      const Ctor = lookup(pkg, SERVICES[p]);
      return new Ctor(target, creds, channelOptions) as Client & Record<string, any>;
    };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_UNARY_DEADLINE_MS;
    const candidates: WorkerProtocol[] = opts.protocol && opts.protocol !== 'auto' ? [opts.protocol] : ['sglang', 'vllm'];
    let lastError: WorkerRpcError | undefined;
    for (const p of candidates) {
      const client = make(p);
      const worker = new WorkerClient(url, p, client, opts.apiKey || undefined);
      try {
        await worker.healthCheck({ deadlineMs: timeoutMs });
        return worker;
      } catch (err) {
        client.close();
        lastError = WorkerRpcError.from(err);
        // UNIMPLEMENTED: this worker speaks the other contract. Anything else: it is unreachable.
        if (lastError.grpcCode !== status.UNIMPLEMENTED) throw lastError;
      }
    }
    throw lastError ?? new WorkerRpcError(status.UNIMPLEMENTED, `worker ${url} speaks neither SGLang nor vLLM gRPC`);
  }

  generate(params: GenerateParams, opts: CallOptions = {}): AsyncIterable<GenerateEvent> {
    return { [Symbol.asyncIterator]: () => this.generateStream(params, opts) };
  }

  private async *generateStream(params: GenerateParams, opts: CallOptions): AsyncGenerator<GenerateEvent> {
    if (opts.signal?.aborted) return;
    const call: ClientReadableStream<any> = this.client.Generate(toGenerateRequest(this.protocol, params), metadataOf(opts, this.apiKey), {
      deadline: deadlineOf(opts, 600_000),
    });
    let finished = false;
    const onAbort = () => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const ev of callEvents(call, fromGenerateResponse)) {
        if (ev.type === 'complete') {
          finished = true;
          // The engine ended the request itself (a timeout, a retraction, an internal error): a
          // failure of this worker, not a finished answer (the text so far is cut off).
          if (ENGINE_ABORTS.has(ev.finishReason)) throw new WorkerRpcError(status.ABORTED, `the engine ended the request itself (finish_reason "${ev.finishReason}")`);
        }
        yield ev;
      }
      finished = true;
    } catch (err) {
      if (opts.signal?.aborted) return;
      const e = WorkerRpcError.from(err);
      // The engine refused the request outright: nothing of it runs, and an Abort by its id could
      // only hit another request that holds the same id.
      if (REFUSALS.has(e.grpcCode)) finished = true;
      throw e;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!finished) {
        call.cancel();
        this.abort(params.requestId, opts.signal?.aborted ? 'client disconnected' : 'stream abandoned').catch(() => undefined);
      }
    }
  }

  abort(requestId: string, reason = 'aborted by gateway'): Promise<void> {
    const req = this.protocol === 'sglang' ? { request_id: requestId, reason } : { request_ids: [requestId] };
    return this.unary('Abort', req, { deadlineMs: 2000 }).then(() => undefined);
  }

  async healthCheck(opts?: CallOptions): Promise<{ healthy: boolean; message: string }> {
    const r = await this.unary('HealthCheck', {}, opts);
    return { healthy: r.healthy === true, message: r.message ?? '' };
  }

  async getModelInfo(opts?: CallOptions): Promise<ModelInfo> {
    return fromModelInfo(await this.unary('GetModelInfo', {}, opts));
  }

  async getServerInfo(opts?: CallOptions): Promise<Record<string, unknown>> {
    return this.unary('GetServerInfo', {}, opts);
  }

  async getLoads(opts?: CallOptions): Promise<WorkerLoad> {
    return fromLoads(await this.unary('GetLoads', { include: ['core'] }, opts));
  }

  async flushCache(opts?: CallOptions): Promise<boolean> {
    if (this.protocol !== 'sglang') throw new WorkerRpcError(status.UNIMPLEMENTED, 'FlushCache is not part of the vLLM contract');
    return (await this.unary('FlushCache', { timeout_s: 0 }, opts)).success === true;
  }

  async embed(requestId: string, inputIds: number[], opts?: CallOptions): Promise<{ embedding: number[]; promptTokens: number }> {
    const r = await this.unary('Embed', { request_id: requestId, tokenized: { original_text: '', input_ids: inputIds } }, opts);
    return { embedding: r.embedding ?? [], promptTokens: r.prompt_tokens ?? 0 };
  }

  subscribeKvEvents(startSequenceNumber: number, opts: CallOptions = {}): AsyncIterable<KvEventBatch> {
    return { [Symbol.asyncIterator]: () => this.kvEventStream(startSequenceNumber, opts) };
  }

  private async *kvEventStream(startSequenceNumber: number, opts: CallOptions): AsyncGenerator<KvEventBatch> {
    const md = metadataOf(opts, this.apiKey);
    const call: ClientReadableStream<any> = this.client.SubscribeKvEvents({ start_sequence_number: String(startSequenceNumber) }, md, opts.deadlineMs ? { deadline: deadlineOf(opts, 0) } : {});
    const onAbort = () => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const batch of call) yield fromKvBatch(batch);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw WorkerRpcError.from(err);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /**
   * The model's tokenizer files as one ZIP (both contracts stream it in chunks, the hex sha256 of
   * the whole archive on the last chunk; checked here). UNIMPLEMENTED when the engine lacks it.
   */
  async getTokenizer(opts: CallOptions & { maxBytes?: number } = {}): Promise<{ archive: Buffer; sha256: string }> {
    const call: ClientReadableStream<any> = this.client.GetTokenizer({}, metadataOf(opts, this.apiKey), { deadline: deadlineOf(opts, 60_000) });
    try {
      return await collectTokenizerArchive(call, opts.maxBytes);
    } catch (err) {
      throw WorkerRpcError.from(err);
    } finally {
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }

  private unary(method: string, req: unknown, opts?: CallOptions): Promise<any> {
    return new Promise((resolve, reject) => {
      this.client[method](req, metadataOf(opts, this.apiKey), { deadline: deadlineOf(opts, DEFAULT_UNARY_DEADLINE_MS) }, (err: unknown, res: unknown) =>
        err ? reject(WorkerRpcError.from(err)) : resolve(res),
      );
    });
  }
}
