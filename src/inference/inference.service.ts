import { Inject, Injectable } from '@nestjs/common';
import { DroverError, type Clock, type Logger, type Metrics, type Rng, type TimerHandle, type Timers } from '@drover/runtime';
import { WorkerRpcError, type GenerateEvent, type GenerateParams } from '@drover/worker-proto';
import { AdmissionService, type AdmissionTicket } from '../admission/admission.service';
import type { GatewayConfig } from '../config/options';
import { toDroverError } from '../errors/to-drover-error';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { childContext, endSpan, injectInto, SpanKind, startSpan, traceIdOf, tracingEnabled, type Span } from '../observability/tracing';
import { RoutingService, type RouteResult, type Task } from '../routing/routing.service';
import { CLOCK, CONFIG, LOGGER, METRICS, RNG, TIMERS } from '../runtime/tokens';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { roleOf, type WorkerRecord } from '../workers/worker-record';
import { PdPair } from './pd-pair';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import type { FinishReason, InferenceEvent, InferenceRequest, TokenLogprob, Usage } from './inference-types';
import { tokenLogprobs } from './token-logprobs';
import { ModelCatalogService, type ServedModel } from './model-catalog.service';
import { backoffMs, countsAgainstWorker, FirstTokenTimeout, isRetryable, StreamIdleTimeout, WorkerTimeout } from './retry-policy';

/** The longest Retry-After from an engine the gateway waits before trying another worker. */
const MAX_RETRY_AFTER_MS = 5000;

/**
 * The request path after the API layer: admission, context budget, route, stream token ids from
 * the worker, detokenize incrementally with stop handling, report usage. Failures before any
 * output reached the client are retried (with backoff) on a worker not yet tried.
 */
@Injectable()
export class InferenceService {
  private readonly rng: Rng;
  private served = 0;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TIMERS) private readonly timers: Timers,
    @Inject(RNG) rng: Rng,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(ModelCatalogService) private readonly models: ModelCatalogService,
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(AdmissionService) private readonly admission: AdmissionService,
    @Inject(LifecycleService) private readonly lifecycle: LifecycleService,
  ) {
    this.rng = rng.fork('inference');
  }

  /** Requests this node finished successfully (the dashboard derives a rate from it). */
  get servedCount(): number {
    return this.served;
  }

  /**
   * Refuses a model no connected worker serves, before any template, tokenizer or image work is
   * spent on the request (an O(1) lookup in the catalog's current snapshot).
   */
  requireModel(model: string, task: Task = 'generate'): void {
    requireTask(this.models.resolve(model), task);
  }

  /** Validates the token budget; returns max_new_tokens to send (the remaining context when unset). */
  checkBudget(model: string, promptTokens: number, maxTokens: number | undefined): number {
    const limit = this.models.resolve(model).maxContextLength;
    const requested = promptTokens + (maxTokens ?? 0);
    if (requested > limit || promptTokens >= limit) {
      throw new DroverError(
        'context_length_exceeded',
        `This model's maximum context length is ${limit} tokens. However, you requested ${requested} tokens ` +
          `(${promptTokens} in the messages, ${maxTokens ?? 0} in the completion). Please reduce the length of the messages or completion.`,
        { param: 'messages' },
      );
    }
    return maxTokens ?? limit - promptTokens;
  }

  /**
   * Admission before any work is spent on a request (tokenizing, rendering, image downloads): the
   * key's limits as they stand and a concurrency slot. The slot is freed when the response ends,
   * whichever way it ends (an error thrown before generation, a client gone), so a controller
   * never has to release it on each path.
   */
  async admitEarly(scope: Pick<InferenceRequest, 'headers' | 'signal'>, reply: { raw: { once(event: 'close', cb: () => void): unknown } }): Promise<AdmissionTicket> {
    if (this.lifecycle.closing) throw new DroverError('shutting_down', 'This gateway node is shutting down; retry on another node.', { retryAfterSeconds: 1 });
    const ticket = await this.admission.admit(scope.headers, scope.signal);
    reply.raw.once('close', () => ticket.done());
    return ticket;
  }

  async *generate(req: InferenceRequest): AsyncGenerator<InferenceEvent> {
    if (this.lifecycle.closing) throw new DroverError('shutting_down', 'This gateway node is shutting down; retry on another node.', { retryAfterSeconds: 1 });
    const served = this.models.resolve(req.model);
    requireTask(served, 'generate');
    if (req.sampling.seed !== undefined && !served.readsSeed) {
      // Sent anyway, the seed would be dropped without a word: the client asked for reproducibility.
      throw new DroverError('unsupported', `'seed' is not supported for the model '${req.model}': its engines (SGLang) take no sampling seed.`, { param: 'seed' });
    }
    const maxNewTokens = this.checkBudget(req.model, req.promptIds.length, req.maxTokens);
    const ticket = req.admission ?? (await this.admission.admit(req.headers, req.signal));
    let usage: Usage | undefined;
    try {
      ticket.settle(req.promptIds.length);
      const tried = new Set<string>();
      // Disaggregated models: each side of a pair remembers its own failed workers.
      const disaggregated = this.routing.isDisaggregated(req.model);
      const triedPd: PdTried = { prefill: new Set(), decode: new Set(), maybePrefill: new Set(), maybeDecode: new Set() };
      const startedAt = this.clock.now();
      for (let attempt = 1; ; attempt++) {
        if (req.signal.aborted) return;
        const pair = disaggregated ? this.routePair(req, triedPd, attempt) : undefined;
        const route = pair ? pair.decode : this.route(req, tried, attempt);
        tried.add(route.worker.id);
        const progress = { emitted: false };
        try {
          for await (const event of this.attempt(req, route, maxNewTokens, startedAt, progress, pair)) {
            if (event.type === 'end') usage = event.usage;
            yield event;
          }
          return;
        } catch (err) {
          if (req.signal.aborted) return;
          const maxRetries = this.routing.settingsFor(req.model).maxRetries ?? this.config.maxRetries;
          const canRetry = (!progress.emitted || req.buffered === true) && isRetryable(err, attempt) && attempt <= maxRetries;
          // A failed pair is retried as a pair: a new prefill worker, a new decode worker or both,
          // whichever side failed (both when that cannot be told), and a new bootstrap room.
          // An unclear failure only makes its workers a last resort for this request.
          if (pair) {
            const side = pair.failedSide ?? 'both';
            if (side === 'unclear') {
              triedPd.maybePrefill.add(pair.prefill.worker.id);
              triedPd.maybeDecode.add(pair.decode.worker.id);
            }
            if (side === 'prefill' || side === 'both') triedPd.prefill.add(pair.prefill.worker.id);
            if (side === 'decode' || side === 'both') triedPd.decode.add(pair.decode.worker.id);
          }
          const candidates = pair ? this.hasPairCandidate(req.model, triedPd) : this.registry.routable(req.model).some((w) => !tried.has(w.id) && roleOf(w) === 'regular' && w.modelInfo?.isGeneration !== false);
          if (canRetry && candidates) {
            // An engine's Retry-After is honoured (capped), else exponential backoff with jitter.
            const retryAfter = err instanceof WorkerRpcError && err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
            const delay = Math.max(retryAfter, backoffMs(attempt, this.config.retryBackoffMs, this.config.retryBackoffMaxMs, this.rng));
            this.log.warn({ requestId: req.requestId, clientRequestId: req.clientRequestId, traceId: traceIdOf(req.trace), worker: route.worker.id, prefillWorker: pair?.prefill.worker.id, failedSide: pair?.failedSide, err: (err as Error).message, attempt, delayMs: delay }, pair ? 'PD pair failed before output; retrying with a new pair' : 'worker failed before output; retrying elsewhere');
            this.metrics.inc('drover_worker_retries_total', { model: req.model });
            if (delay > 0) await new Promise<void>((r) => this.timers.setTimeout(r, delay));
            if (progress.emitted) yield { type: 'reset' };
            continue;
          }
          this.metrics.inc('drover_inference_errors_total', { model: req.model, code: toDroverError(err).code });
          if (err instanceof WorkerTimeout) throw new DroverError('worker_timeout', err.message);
          throw err;
        }
      }
    } finally {
      ticket.done(usage);
    }
  }

  /** One embedding on a routed worker (retried elsewhere on a retryable failure). */
  async embed(model: string, ids: number[], requestId: string, headers: InferenceRequest['headers']): Promise<{ embedding: number[]; promptTokens: number }> {
    requireTask(this.models.resolve(model), 'embed');
    this.checkBudget(model, ids.length, 0);
    const tried = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      const { worker } = this.routing.select({ model, tokens: ids, headers, exclude: tried, task: 'embed' });
      tried.add(worker.id);
      const dispatch = this.registry.acquire(worker);
      let outcome: 'ok' | 'failed' | 'neutral' = 'neutral';
      try {
        const res = await worker.client!.embed(requestId, ids, { deadlineMs: this.config.requestTimeoutMs, metadata: { 'x-request-id': requestId } });
        outcome = 'ok';
        return res;
      } catch (err) {
        outcome = countsAgainstWorker(err) ? 'failed' : 'neutral';
        if (!isRetryable(err, attempt) || attempt > this.config.maxRetries || !this.registry.routable(model).some((w) => !tried.has(w.id) && w.modelInfo?.isGeneration === false)) throw err;
      } finally {
        this.registry.release(worker, outcome, dispatch);
      }
    }
  }

  /**
   * A prefill worker (the model's policy: cache-aware by default, so shared prefixes meet their KV)
   * and a decode worker (--decode-policy: load). Both sides must speak the same contract.
   */
  private routePair(req: InferenceRequest, tried: PdTried, attempt: number): PdPair {
    const base = { model: req.model, tokens: req.routeIds ?? req.promptIds, headers: req.headers, user: req.user };
    const span = tracingEnabled() ? startSpan('route', req.trace, { 'drover.policy': this.routing.settingsFor(req.model).policy, 'drover.attempt': attempt, 'drover.pd': true }) : undefined;
    // Workers of an unclear failure are avoided while the pool has others, then taken again.
    const pick = (role: 'prefill' | 'decode', hard: ReadonlySet<string>, soft: ReadonlySet<string>): RouteResult => {
      if (soft.size > 0 && this.hasOpen(req.model, role, hard, soft)) return this.routing.select({ ...base, exclude: new Set([...hard, ...soft]), role });
      return this.routing.select({ ...base, exclude: hard, role });
    };
    try {
      const prefill = pick('prefill', tried.prefill, tried.maybePrefill);
      const decode = pick('decode', tried.decode, tried.maybeDecode);
      if (prefill.worker.protocol !== decode.worker.protocol) {
        throw new DroverError('worker_unavailable', `prefill worker ${prefill.worker.id} speaks ${prefill.worker.protocol} and decode worker ${decode.worker.id} speaks ${decode.worker.protocol}: a pair must share one engine contract`);
      }
      span?.setAttributes({ 'drover.worker': decode.worker.id, 'drover.prefill_worker': prefill.worker.id, 'drover.match_ratio': prefill.matchRatio, 'drover.route_reason': prefill.reason });
      if (span) endSpan(span);
      return new PdPair(prefill, decode, attempt === 1 ? req.requestId : `${req.requestId}-pd${attempt}`, { registry: this.registry, timers: this.timers, clock: this.clock, rng: this.rng, log: this.log, metrics: this.metrics, model: req.model, transferTimeoutMs: this.config.kvTransferTimeoutMs });
    } catch (err) {
      if (span) endSpan(span, err);
      throw err;
    }
  }

  /** A retry needs a routable prefill worker and a routable decode worker not yet ruled out. */
  private hasPairCandidate(model: string, tried: PdTried): boolean {
    return this.hasOpen(model, 'prefill', tried.prefill) && this.hasOpen(model, 'decode', tried.decode);
  }

  private hasOpen(model: string, role: 'prefill' | 'decode', ...excluded: ReadonlySet<string>[]): boolean {
    return this.registry.routable(model, 'grpc').some((w) => roleOf(w) === role && w.modelInfo?.isGeneration !== false && !excluded.some((s) => s.has(w.id)));
  }

  private route(req: InferenceRequest, tried: ReadonlySet<string>, attempt: number): RouteResult {
    // The model's own policy (PUT /admin/policies/:model), not just the node default.
    const input = { model: req.model, tokens: req.routeIds ?? req.promptIds, headers: req.headers, user: req.user, exclude: tried };
    if (!tracingEnabled()) return this.routing.select(input);
    const span = startSpan('route', req.trace, { 'drover.policy': this.routing.settingsFor(req.model).policy, 'drover.attempt': attempt });
    try {
      const route = this.routing.select(input);
      span.setAttributes({ 'drover.worker': route.worker.id, 'drover.match_ratio': route.matchRatio, 'drover.route_reason': route.reason });
      endSpan(span);
      return route;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  /** One try on one worker. Throws on failure; `progress.emitted` tells whether text reached the client. */
  private async *attempt(req: InferenceRequest, route: RouteResult, maxNewTokens: number, startedAt: number, progress: { emitted: boolean }, pair?: PdPair): AsyncGenerator<InferenceEvent> {
    const worker = route.worker;
    const served = this.models.resolve(req.model);
    const tokenizer = req.tokenizer ?? this.tokenizers.tokenizer;
    // SGLang's model info leaves eos_token_ids empty: the model's own files (its bundle) know them.
    const eosTokenIds = served.eosTokenIds.length > 0 ? served.eosTokenIds : tokenizer.eosTokenIds;
    const decoder = tokenizer.createDecoder({
      skipSpecialTokens: req.skipSpecialTokens,
      stop: req.stop,
      stopTokenIds: req.sampling.stopTokenIds,
      eosTokenIds,
      ignoreEos: req.sampling.ignoreEos,
    });
    const tracing = tracingEnabled();
    const callSpan = tracing ? startSpan('worker.generate', req.trace, { 'rpc.system': 'grpc', 'rpc.method': 'Generate', 'drover.worker': worker.id, 'server.address': worker.spec.url }, SpanKind.CLIENT) : undefined;
    let decodeSpan: Span | undefined;
    // The attempt has its own abort: the client going away, or the first-token timeout.
    const attemptAbort = new AbortController();
    const onClientAbort = (): void => attemptAbort.abort(req.signal.reason);
    req.signal.addEventListener('abort', onClientAbort, { once: true });
    // Set when the gateway itself gave up on the worker (no first token, or output stalled).
    let timedOut: WorkerTimeout | undefined;
    const giveUp = (t: WorkerTimeout): void => {
      timedOut = t;
      attemptAbort.abort(t);
    };
    const ttftTimer = this.config.ttftTimeoutMs > 0 ? this.timers.setTimeout(() => giveUp(new FirstTokenTimeout(this.config.ttftTimeoutMs)), this.config.ttftTimeoutMs) : undefined;
    // One timer per idle period, not one per chunk: each chunk only stamps the time, and the timer
    // re-arms itself for the rest of the period when output arrived meanwhile.
    const idleMs = this.config.streamIdleTimeoutMs;
    let lastOutputAt = 0;
    // True while the consumer holds a yielded event (a slow client under backpressure): the
    // engine's output then waits in gRPC flow control, which is not the worker going quiet.
    let heldByClient = false;
    let idleTimer: TimerHandle | undefined;
    const armIdle = (delay: number): void => {
      idleTimer = this.timers.setTimeout(() => {
        const quiet = this.clock.now() - lastOutputAt;
        if (heldByClient) armIdle(idleMs);
        else if (quiet >= idleMs) giveUp(new StreamIdleTimeout(idleMs));
        else armIdle(idleMs - quiet);
      }, delay);
    };

    let completionTokens = 0;
    const pendingLogprobs: TokenLogprob[] = [];
    // The token that ended the output (EOS, a stop token) has no text: clients see no logprob for it.
    const endIds = req.logprobs ? new Set([...(req.sampling.ignoreEos ? [] : eosTokenIds), ...(req.sampling.stopTokenIds ?? [])]) : undefined;
    let decodeMs = 0;
    const usage: Usage = { promptTokens: req.promptIds.length, completionTokens: 0, cachedTokens: 0 };
    let finishReason: FinishReason | undefined;
    let matchedStop: string | number | undefined;
    let firstTokenAt: number | undefined;
    let outcome: 'ok' | 'failed' | 'neutral' = 'neutral';
    let failure: unknown;
    // Off, the client's own traceparent is already in the request's metadata.
    const metadata = callSpan ? injectInto(childContext(req.trace, callSpan), { ...req.metadata }) : req.metadata;
    // Ownership is recorded at dispatch, so requests sharing the prefix find it while this one is
    // still in prefill, and withdrawn below if the worker fails before producing anything.
    // A PD pair: the prefill worker is the one that holds the prompt's KV cache.
    const recorded = this.routing.record({ model: req.model, tokens: req.routeIds ?? req.promptIds, headers: req.headers, user: req.user }, pair ? pair.prefill.worker : worker, pair ? pair.prefill : route);
    const dispatch = this.registry.acquire(worker);
    try {
      let sawChunk = false;
      const events = pair ? pair.events(this.generateParams(req, maxNewTokens), metadata, attemptAbort.signal, this.config.requestTimeoutMs) : this.callWorker(worker, req, maxNewTokens, metadata, attemptAbort.signal);
      for await (const event of events) {
        if (event.promptTokens) usage.promptTokens = event.promptTokens;
        usage.cachedTokens = event.cachedTokens;
        // Streaming workers send every token in chunks; a worker that only sends `complete`
        // carries the whole output there.
        const ids = event.type === 'chunk' ? event.tokenIds : sawChunk ? [] : event.outputIds;
        if (req.logprobs && event.logprobs && (event.type === 'chunk' || !sawChunk)) pendingLogprobs.push(...tokenLogprobs(event.logprobs, endIds));
        sawChunk ||= event.type === 'chunk';
        if (ids.length > 0) {
          lastOutputAt = this.clock.now();
          if (firstTokenAt === undefined) {
            firstTokenAt = lastOutputAt;
            this.registry.firstToken(dispatch);
            this.timers.clearTimeout(ttftTimer);
            if (idleMs > 0) armIdle(idleMs);
            if (callSpan) decodeSpan = startSpan('detokenize', childContext(req.trace, callSpan));
          }
          const decodeStart = this.clock.now();
          const step = decoder.push(ids);
          decodeMs += this.clock.now() - decodeStart;
          completionTokens += ids.length;
          if (step.text) {
            progress.emitted = true;
            heldByClient = true;
            yield pendingLogprobs.length > 0 ? { type: 'text', text: step.text, logprobs: pendingLogprobs.splice(0) } : { type: 'text', text: step.text };
            heldByClient = false;
            lastOutputAt = this.clock.now();
          }
          if (step.finished) {
            finishReason = 'stop';
            matchedStop = step.matchedStop;
            break;
          }
        }
        if (event.type === 'complete') {
          finishReason = normaliseFinish(event.finishReason);
          matchedStop = event.matchedStopStr ?? event.matchedTokenId;
          completionTokens = Math.max(completionTokens, event.completionTokens);
        }
      }
      if (timedOut) throw timedOut;
      if (req.signal.aborted) return;
      outcome = 'ok';
      const tail = decoder.finished ? '' : decoder.flush();
      if (tail || pendingLogprobs.length > 0) {
        progress.emitted ||= tail.length > 0;
        yield pendingLogprobs.length > 0 ? { type: 'text', text: tail, logprobs: pendingLogprobs.splice(0) } : { type: 'text', text: tail };
      }
      usage.completionTokens = completionTokens;
      finishReason ??= 'stop';
      this.observe(req, worker.id, startedAt, firstTokenAt, finishReason, usage);
      this.log.info(
        { requestId: req.requestId, clientRequestId: req.clientRequestId, traceId: traceIdOf(req.trace), model: req.model, worker: worker.id, prefillWorker: pair?.prefill.worker.id, route: pair ? pair.prefill.reason : route.reason, status: 'ok', finish: finishReason, prompt: usage.promptTokens, completion: completionTokens, cached: usage.cachedTokens, ttftMs: firstTokenAt === undefined ? null : Math.round(firstTokenAt - startedAt), ms: Math.round(this.clock.now() - startedAt) },
        'request done',
      );
      this.served++;
      yield pair ? { type: 'end', finishReason, usage, workerId: worker.id, matchedStop, prefillWorkerId: pair.prefill.worker.id } : { type: 'end', finishReason, usage, workerId: worker.id, matchedStop };
    } catch (err) {
      failure = timedOut ?? err;
      if (!req.signal.aborted && firstTokenAt === undefined) this.routing.withdraw(req.model, recorded);
      if (!req.signal.aborted) {
        // The prefill side's failure is not the decode worker's (its own leg counted it).
        outcome = pair && pair.failedSide !== 'decode' ? 'neutral' : countsAgainstWorker(failure) ? 'failed' : 'neutral';
        if (failure instanceof WorkerRpcError) this.metrics.inc('drover_worker_errors_total', { worker: worker.id, grpc_status: failure.grpcName });
      }
      throw failure;
    } finally {
      this.timers.clearTimeout(ttftTimer);
      this.timers.clearTimeout(idleTimer);
      req.signal.removeEventListener('abort', onClientAbort);
      if (req.signal.aborted) this.metrics.inc('drover_inference_client_aborts_total', { model: req.model, worker: worker.id });
      this.registry.release(worker, outcome, dispatch);
      if (firstTokenAt !== undefined) this.tokenizers.observeDecode(decodeMs / 1000);
      if (decodeSpan) {
        decodeSpan.setAttribute('drover.completion_tokens', completionTokens);
        endSpan(decodeSpan);
      }
      if (callSpan) {
        callSpan.setAttributes({ 'drover.prompt_tokens': usage.promptTokens, 'drover.cached_tokens': usage.cachedTokens });
        endSpan(callSpan, failure);
      }
    }
  }

  private observe(req: InferenceRequest, workerId: string, startedAt: number, firstTokenAt: number | undefined, reason: string, usage: Usage): void {
    const labels = { model: req.model, worker: workerId };
    const end = this.clock.now();
    this.metrics.inc('drover_inference_requests_total', { ...labels, finish_reason: reason });
    this.metrics.observe('drover_inference_e2e_seconds', (end - startedAt) / 1000, labels);
    if (firstTokenAt !== undefined) {
      this.metrics.observe('drover_inference_ttft_seconds', (firstTokenAt - startedAt) / 1000, labels);
      if (usage.completionTokens > 1) {
        this.metrics.observe('drover_inference_tpot_seconds', (end - firstTokenAt) / 1000 / (usage.completionTokens - 1), labels);
      }
    }
    this.metrics.observe('drover_inference_prompt_tokens', usage.promptTokens, { model: req.model });
    this.metrics.inc('drover_inference_prompt_tokens_total', labels, usage.promptTokens);
    this.metrics.inc('drover_inference_completion_tokens_total', labels, usage.completionTokens);
    this.metrics.inc('drover_inference_cached_tokens_total', labels, usage.cachedTokens);
  }

  private callWorker(worker: WorkerRecord, req: InferenceRequest, maxNewTokens: number, metadata: Record<string, string>, signal: AbortSignal): AsyncIterable<GenerateEvent> {
    if (!worker.client) throw new DroverError('worker_unavailable', `worker ${worker.id} is not connected`);
    return worker.client.generate(this.generateParams(req, maxNewTokens), { signal, deadlineMs: this.config.requestTimeoutMs, metadata });
  }

  private generateParams(req: InferenceRequest, maxNewTokens: number): GenerateParams {
    return {
      requestId: req.requestId,
      inputIds: req.promptIds,
      originalText: undefined,
      sampling: { ...req.sampling, maxNewTokens, skipSpecialTokens: req.skipSpecialTokens },
      stream: true,
      multimodal: req.multimodal,
      logprobs: req.logprobs,
    };
  }
}

/** A PD request's workers ruled out by failed pairs, and (maybe*) those of unclear failures: a last resort. */
interface PdTried {
  prefill: Set<string>;
  decode: Set<string>;
  maybePrefill: Set<string>;
  maybeDecode: Set<string>;
}

/**
 * Generation goes only to models with a generating engine, embeddings only to embedding engines
 * (model info `is_generation`): an engine asked for the other gives nothing useful.
 */
function requireTask(m: ServedModel, task: Task): void {
  if (m.kind !== 'grpc') return;
  if (task === 'generate' && !m.generates) throw new DroverError('unsupported', `The model '${m.id}' is an embedding model: it does not generate text (use /v1/embeddings).`, { param: 'model' });
  if (task === 'embed' && !m.embeds) throw new DroverError('unsupported', `The model '${m.id}' does not support embeddings: its engines are generation models.`, { param: 'model' });
}

function normaliseFinish(reason: string): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'abort') return 'abort';
  return 'stop';
}
