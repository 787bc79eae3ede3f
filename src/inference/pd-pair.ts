import { status } from '@grpc/grpc-js';
import type { Clock, Logger, Metrics, Rng, TimerHandle, Timers } from '@drover/runtime';
import { WorkerRpcError, type GenerateEvent, type GenerateParams } from '@drover/worker-proto';
import type { RouteResult } from '../routing/routing.service';
import type { WorkerRecord } from '../workers/worker-record';
import type { WorkerRegistryService } from '../workers/worker-registry.service';
import { countsAgainstWorker, KvTransferTimeout } from './retry-policy';

/** SGLang's default bootstrap port, when neither the worker spec nor the engine names one. */
export const SGLANG_DEFAULT_BOOTSTRAP_PORT = 8998;
/** vLLM: the prefill request that asks the engine to keep the KV for a remote decode. */
const REMOTE_DECODE = JSON.stringify({ do_remote_decode: true, do_remote_prefill: false });

export type PdFailedSide = 'prefill' | 'decode' | 'both' | 'unclear';

export interface PdPairDeps {
  registry: WorkerRegistryService;
  timers: Timers;
  clock: Clock;
  metrics: Metrics;
  /** The model served (metric label). */
  model: string;
  rng: Rng;
  log: Logger;
  /** No first token from the decode side this long after the prefill side finished: the transfer is lost (0 = off). */
  transferTimeoutMs: number;
}

/**
 * One disaggregated attempt: a prefill worker and a decode worker serving one request together.
 * `events()` runs the prefill leg (counted on its worker) and yields the decode worker's stream.
 * A failure of either side before the decode's first token fails the attempt and says which side
 * failed (`failedSide`), so the retry picks a new pair without it; after the first token the
 * prefill side no longer matters (the decode engine has the KV).
 */
export class PdPair {
  /**
   * Which side failed the attempt: 'both' when the pair as such failed (its transfer never
   * completed), 'unclear' when the decode side failed while the prefill side was still at work (a
   * prefill that died fails its decode's transfer too: either may be at fault).
   */
  failedSide: PdFailedSide | undefined;
  private prefillFinished = false;
  /** The SGLang prefill stream, running beside the decode stream until it ends. */
  private prefillLeg: Promise<void> | undefined;
  private prefillSettled = false;

  /**
   * @param requestId the engine request id both sides share. A retried pair gets its own (the
   * gateway's id plus the attempt), so a late Abort of the failed pair can never hit the new one on
   * a decode worker both pairs share.
   */
  constructor(
    readonly prefill: RouteResult,
    readonly decode: RouteResult,
    readonly requestId: string,
    private readonly deps: PdPairDeps,
  ) {}

  get prefillWorker(): WorkerRecord {
    return this.prefill.worker;
  }

  /**
   * The decode side's events. `params` is the request as a co-located engine would get it; each
   * contract's PD parameters are added here. `signal` aborts both sides (client gone, timeouts).
   */
  async *events(request: GenerateParams, metadata: Record<string, string>, signal: AbortSignal, deadlineMs: number): AsyncGenerator<GenerateEvent> {
    const params = { ...request, requestId: this.requestId };
    const pairAbort = new AbortController();
    const onAbort = (): void => pairAbort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const state: { failure?: unknown; firstToken: boolean; timer?: TimerHandle; prefillDoneAt?: number } = { firstToken: false };
    const fail = (side: PdFailedSide, err: unknown): void => {
      if (state.firstToken || state.failure !== undefined) return;
      state.failure = err;
      this.failedSide = side;
      if (!signal.aborted) this.deps.metrics.inc('drover_pd_pair_failures_total', { model: this.deps.model, side });
      pairAbort.abort(err);
    };
    // The prefill side is done: the KV is on its way, and the decode side must start within the timeout.
    const armTransfer = (): void => {
      const ms = this.deps.transferTimeoutMs;
      state.prefillDoneAt ??= this.deps.clock.now();
      if (ms <= 0 || state.timer !== undefined || state.firstToken) return;
      state.timer = this.deps.timers.setTimeout(() => fail('both', new KvTransferTimeout(ms)), ms);
    };
    const opts = { signal: pairAbort.signal, deadlineMs, metadata };
    try {
      const decodeParams = this.prefillWorker.protocol === 'vllm' ? await this.vllmPrefill(params, opts, armTransfer, fail) : this.sglangPrefill(params, opts, armTransfer, fail);
      if (state.failure === undefined && !signal.aborted) {
        try {
          for await (const ev of this.decodeClient().generate(decodeParams, opts)) {
            if (!state.firstToken && (ev.type === 'chunk' ? ev.tokenIds.length > 0 : ev.outputIds.length > 0)) {
              state.firstToken = true;
              this.deps.timers.clearTimeout(state.timer);
              // The transfer as the gateway sees it: prefill done → the decode engine's first token.
              if (state.prefillDoneAt !== undefined) this.deps.metrics.observe('drover_pd_kv_transfer_seconds', (this.deps.clock.now() - state.prefillDoneAt) / 1000, { model: this.deps.model });
            }
            yield ev;
          }
        } catch (err) {
          // Before the prefill finished, a decode failure may be the transfer's (a prefill that died
          // or cannot be reached fails its decode too): neither side can be trusted for the retry.
          fail(this.prefillFinished ? 'decode' : 'unclear', err);
          if (state.firstToken) throw err;
        }
      }
      // The prefill failed or the transfer timed out: the decode stream was cancelled (and aborted).
      if (state.failure !== undefined && !state.firstToken) throw state.failure;
    } finally {
      this.deps.timers.clearTimeout(state.timer);
      signal.removeEventListener('abort', onAbort);
      // The client left (or the pair failed) after the prefill side had finished: it may still hold
      // the KV for the transfer, so it hears the abort too (an engine ignores one for a finished request).
      if ((signal.aborted || state.failure !== undefined) && this.prefillFinished) this.prefillWorker.client?.abort(params.requestId, 'client disconnected').catch(() => undefined);
      // An SGLang prefill ends once its KV is sent, before the decode's first token; one still open
      // after the decode ended gets the transfer timeout's grace, then is cancelled (and aborted).
      if (this.prefillLeg && !this.prefillSettled && !pairAbort.signal.aborted) {
        const t = this.deps.timers.setTimeout(() => pairAbort.abort(), Math.max(this.deps.transferTimeoutMs, 1000));
        void this.prefillLeg.finally(() => this.deps.timers.clearTimeout(t));
      }
    }
  }

  /**
   * SGLang: the same request goes to both sides at once with one bootstrap room; the prefill
   * stream runs in the background (its only news: it finished prefill, or it failed).
   */
  private sglangPrefill(params: GenerateParams, opts: { signal: AbortSignal; deadlineMs: number; metadata: Record<string, string> }, armTransfer: () => void, fail: (side: 'prefill', err: unknown) => void): GenerateParams {
    const w = this.prefillWorker;
    const url = new URL(w.spec.url);
    const disaggregation = {
      bootstrapHost: url.hostname.replace(/^\[|\]$/g, ''),
      bootstrapPort: w.spec.bootstrapPort ?? w.reportedBootstrapPort ?? SGLANG_DEFAULT_BOOTSTRAP_PORT,
      bootstrapRoom: this.deps.rng.int(2 ** 31),
    };
    const both = { ...params, disaggregation };
    this.prefillLeg = this.runPrefill(both, opts, (ev) => {
      if (ev.type === 'complete' || ev.tokenIds.length > 0) armTransfer();
    })
      .catch((err: unknown) => fail('prefill', err))
      .finally(() => {
        this.prefillSettled = true;
      });
    return both;
  }

  /** vLLM: prefill first (one token, KV kept for a remote decode), then decode with what it returned. */
  private async vllmPrefill(params: GenerateParams, opts: { signal: AbortSignal; deadlineMs: number; metadata: Record<string, string> }, armTransfer: () => void, fail: (side: 'prefill', err: unknown) => void): Promise<GenerateParams> {
    let returned: string | undefined;
    const prefillParams: GenerateParams = {
      ...params,
      sampling: { ...params.sampling, maxNewTokens: 1, minNewTokens: 0, n: 1, stop: [], stopTokenIds: [], ignoreEos: true },
      logprobs: undefined,
      kvTransferParamsJson: REMOTE_DECODE,
    };
    try {
      await this.runPrefill(prefillParams, opts, (ev) => {
        if (ev.type === 'complete') returned = ev.kvTransferParamsJson;
      });
      if (returned === undefined && !opts.signal.aborted) throw new WorkerRpcError(status.INTERNAL, `prefill worker ${this.prefillWorker.id} returned no kv_transfer_params_json (is it started with a KV connector as kv_producer?)`);
    } catch (err) {
      fail('prefill', err);
      return params;
    }
    armTransfer();
    // The decode side reads the prompt's KV (images included) from the prefill: no multimodal inputs.
    return { ...params, multimodal: undefined, kvTransferParamsJson: returned };
  }

  /** The prefill leg on its worker, counted in its in-flight and first-token load like any call. */
  private async runPrefill(params: GenerateParams, opts: { signal: AbortSignal; deadlineMs: number; metadata: Record<string, string> }, onEvent: (ev: GenerateEvent) => void): Promise<void> {
    const w = this.prefillWorker;
    if (!w.client) throw new WorkerRpcError(status.UNAVAILABLE, `prefill worker ${w.id} is not connected`);
    const dispatch = this.deps.registry.acquire(w);
    let outcome: 'ok' | 'failed' | 'neutral' = 'neutral';
    try {
      for await (const ev of w.client.generate(params, opts)) {
        if (ev.type === 'complete' || ev.tokenIds.length > 0) this.deps.registry.firstToken(dispatch);
        onEvent(ev);
      }
      if (!opts.signal.aborted) {
        outcome = 'ok';
        this.prefillFinished = true;
      }
    } catch (err) {
      if (!opts.signal.aborted) outcome = countsAgainstWorker(err) ? 'failed' : 'neutral';
      throw err;
    } finally {
      this.deps.registry.release(w, outcome, dispatch);
    }
  }

  private decodeClient(): NonNullable<WorkerRecord['client']> {
    const c = this.decode.worker.client;
    if (!c) throw new WorkerRpcError(status.UNAVAILABLE, `decode worker ${this.decode.worker.id} is not connected`);
    return c;
  }
}
