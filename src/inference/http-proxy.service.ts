import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError, type Clock, type Logger, type Metrics, type Rng, type Timers } from '@drover/runtime';
import { AdmissionService } from '../admission/admission.service';
import { requestScope } from '../api/request-context';
import type { GatewayConfig } from '../config/options';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { childContext, endSpan, injectInto, SpanKind, startSpan, traceIdOf } from '../observability/tracing';
import { RoutingService } from '../routing/routing.service';
import { CLOCK, CONFIG, LOGGER, METRICS, RNG, TIMERS } from '../runtime/tokens';
import { HttpUpstreamError } from '../workers/http-upstream-error';
import type { WorkerRecord } from '../workers/worker-record';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import { codeUnits } from './canonical-text';
import { proxyAttempt, type AttemptResult } from './http-proxy-attempt';
import { isRetryableUpstream, MAX_UPSTREAM_RETRY_AFTER_MS, upstreamFailure } from './http-proxy-errors';
import type { Usage } from './inference-types';
import { ModelCatalogService } from './model-catalog.service';
import { backoffMs } from './retry-policy';

export type ProxiedApi = 'chat' | 'completions' | 'embeddings';

const PATHS: Record<ProxiedApi, string> = { chat: '/v1/chat/completions', completions: '/v1/completions', embeddings: '/v1/embeddings' };
/** Rough characters per token, to charge token rate limits for prompts the gateway never tokenizes. */
const CHARS_PER_TOKEN = 4;

export interface ProxyRequest {
  api: ProxiedApi;
  /** The client's JSON body, already validated by the API's schema. */
  body: Record<string, unknown>;
  /** The canonical prompt text to route on (see canonical-text.ts). */
  routeText: string;
  user?: string;
}

/**
 * The request path for models served by OpenAI-compatible HTTP upstreams: admission, route on the
 * prompt's text (code units through the model's shared prefix shards), forward the client's body
 * to the chosen worker and stream its answer back. No tokenization happens here. Failures before
 * any byte reached the client are retried on a worker not yet tried, as on the gRPC path.
 */
@Injectable()
export class HttpProxyService {
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
    @Inject(AdmissionService) private readonly admission: AdmissionService,
    @Inject(LifecycleService) private readonly lifecycle: LifecycleService,
  ) {
    this.rng = rng.fork('http-proxy');
  }

  /** Requests this node proxied successfully (the dashboard adds them to its rate). */
  get servedCount(): number {
    return this.served;
  }

  /** True when the model's workers are HTTP upstreams: the controllers hand its requests here. */
  serves(model: unknown): boolean {
    return typeof model === 'string' && this.models.kindOf(model) === 'http';
  }

  /** A 400 for APIs that need the gateway's tokenizer and a gRPC worker, for an HTTP-only model. */
  requireGrpc(model: unknown, api: string): void {
    if (!this.serves(model)) return;
    throw new DroverError(
      'unsupported',
      `${api} needs a gRPC worker, but the model '${String(model)}' is served only by OpenAI-compatible HTTP upstreams, ` +
        'which the gateway proxies without tokenizing. Use /v1/chat/completions, /v1/completions or /v1/embeddings for this model.',
      { param: 'model' },
    );
  }

  async forward(p: ProxyRequest, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (this.lifecycle.closing) throw new DroverError('shutting_down', 'This gateway node is shutting down; retry on another node.', { retryAfterSeconds: 1 });
    const model = String(p.body.model);
    const scope = requestScope(req, reply);
    const stream = p.api !== 'embeddings' && p.body.stream === true;
    const tokens = codeUnits(p.routeText);
    const release = await this.admission.admitRequest(scope.headers, Math.ceil(tokens.length / CHARS_PER_TOKEN), scope.signal);
    let usage: Usage | undefined;
    const tried = new Set<string>();
    const startedAt = this.clock.now();
    try {
      for (let attempt = 1; ; attempt++) {
        if (scope.signal.aborted) return;
        const worker = this.route(model, tokens, scope, p.user, tried, attempt);
        tried.add(worker.id);
        try {
          const result = await this.attempt(p, model, stream, worker, tokens, scope, req, reply);
          usage = result.usage;
          this.observe(model, worker, startedAt, result, scope, traceIdOf(scope.trace));
          return;
        } catch (err) {
          if (scope.signal.aborted) return;
          const maxRetries = this.routing.settingsFor(model).maxRetries ?? this.config.maxRetries;
          if (isRetryableUpstream(err) && attempt <= maxRetries && this.registry.routable(model, 'http').some((w) => !tried.has(w.id))) {
            const e = err as HttpUpstreamError;
            // The upstream's Retry-After is honoured (capped), else exponential backoff with jitter.
            const retryAfter = Math.min(e.retryAfterMs ?? 0, MAX_UPSTREAM_RETRY_AFTER_MS);
            const delay = Math.max(retryAfter, backoffMs(attempt, this.config.retryBackoffMs, this.config.retryBackoffMaxMs, this.rng));
            this.log.warn({ requestId: scope.requestId, clientRequestId: scope.clientRequestId, traceId: traceIdOf(scope.trace), worker: worker.id, err: e.message, attempt, delayMs: delay }, 'upstream failed before output; retrying elsewhere');
            this.metrics.inc('drover_worker_retries_total', { model });
            if (delay > 0) await new Promise<void>((r) => this.timers.setTimeout(r, delay));
            continue;
          }
          const failure = err instanceof HttpUpstreamError ? upstreamFailure(err) : err;
          this.metrics.inc('drover_inference_errors_total', { model, code: failure instanceof DroverError ? failure.code : 'internal' });
          throw failure;
        }
      }
    } finally {
      release(usage);
    }
  }

  private route(model: string, tokens: Uint32Array, scope: ReturnType<typeof requestScope>, user: string | undefined, tried: ReadonlySet<string>, attempt: number): WorkerRecord {
    const span = startSpan('route', scope.trace, { 'drover.policy': this.routing.settingsFor(model).policy, 'drover.attempt': attempt });
    try {
      const route = this.routing.select({ model, tokens, headers: scope.headers, user, exclude: tried, kind: 'http' });
      span.setAttributes({ 'drover.worker': route.worker.id, 'drover.match_ratio': route.matchRatio, 'drover.route_reason': route.reason });
      endSpan(span);
      return route.worker;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  /** One upstream call with in-flight counting, the circuit verdict, the routing record and a client span. */
  private async attempt(p: ProxyRequest, model: string, stream: boolean, worker: WorkerRecord, tokens: Uint32Array, scope: ReturnType<typeof requestScope>, req: FastifyRequest, reply: FastifyReply): Promise<AttemptResult> {
    const path = PATHS[p.api];
    const span = startSpan('worker.http', scope.trace, { 'http.request.method': 'POST', 'url.path': path, 'drover.worker': worker.id, 'server.address': worker.spec.url }, SpanKind.CLIENT);
    const headers = injectInto(childContext(scope.trace, span), { ...scope.metadata });
    let outcome: 'ok' | 'failed' | 'neutral' = 'neutral';
    let failure: unknown;
    // Recorded when sent, like the gRPC path: the worker now holds this prefix (shared with the mesh).
    this.routing.record({ model, tokens, headers: scope.headers, user: p.user, kind: 'http' }, worker);
    const dispatch = this.registry.acquire(worker);
    try {
      const result = await proxyAttempt(
        { worker, path, body: p.body, raw: (req as { rawBody?: Buffer }).rawBody, model, stream, requestId: scope.requestId, headers, clientSignal: scope.signal, requestTimeoutMs: this.config.requestTimeoutMs, ttftTimeoutMs: this.config.ttftTimeoutMs, streamIdleTimeoutMs: this.config.streamIdleTimeoutMs, onFirstByte: () => this.registry.firstToken(dispatch) },
        reply,
        this.clock,
        this.timers,
      );
      span.setAttribute('http.response.status_code', result.status);
      if (result.brokeMidStream) {
        failure = result.brokeMidStream;
        outcome = 'failed';
        this.metrics.inc('drover_worker_errors_total', { worker: worker.id, grpc_status: result.brokeMidStream.grpcEquivalent });
        this.metrics.inc('drover_inference_errors_total', { model, code: upstreamFailure(result.brokeMidStream).code });
      } else if (!scope.signal.aborted) {
        outcome = result.status < 400 ? 'ok' : 'neutral';
      }
      return result;
    } catch (err) {
      failure = err;
      if (!scope.signal.aborted && err instanceof HttpUpstreamError) {
        outcome = err.retryable ? 'failed' : 'neutral';
        this.metrics.inc('drover_worker_errors_total', { worker: worker.id, grpc_status: err.grpcEquivalent });
      }
      throw err;
    } finally {
      if (scope.signal.aborted) this.metrics.inc('drover_inference_client_aborts_total', { model, worker: worker.id });
      this.registry.release(worker, outcome, dispatch);
      endSpan(span, failure);
    }
  }

  private observe(model: string, worker: WorkerRecord, startedAt: number, r: AttemptResult, ids: { requestId: string; clientRequestId?: string }, traceId: string | undefined): void {
    const labels = { model, worker: worker.id };
    const end = this.clock.now();
    const finish = r.brokeMidStream ? 'error' : (r.finishReason ?? (r.status < 400 ? 'stop' : `http_${r.status}`));
    this.metrics.inc('drover_inference_requests_total', { ...labels, finish_reason: finish });
    this.metrics.observe('drover_inference_e2e_seconds', (end - startedAt) / 1000, labels);
    if (r.firstByteAt !== undefined) this.metrics.observe('drover_inference_ttft_seconds', (r.firstByteAt - startedAt) / 1000, labels);
    if (r.usage) {
      this.metrics.observe('drover_inference_prompt_tokens', r.usage.promptTokens, { model });
      this.metrics.inc('drover_inference_prompt_tokens_total', labels, r.usage.promptTokens);
      this.metrics.inc('drover_inference_completion_tokens_total', labels, r.usage.completionTokens);
      this.metrics.inc('drover_inference_cached_tokens_total', labels, r.usage.cachedTokens);
    }
    if (r.status < 400 && !r.brokeMidStream) this.served++;
    this.log.info(
      { requestId: ids.requestId, clientRequestId: ids.clientRequestId, traceId, model, worker: worker.id, kind: 'http', status: r.status, finish, prompt: r.usage?.promptTokens ?? null, completion: r.usage?.completionTokens ?? null, cached: r.usage?.cachedTokens ?? null, ttftMs: r.firstByteAt === undefined ? null : Math.round(r.firstByteAt - startedAt), ms: Math.round(end - startedAt) },
      'request done',
    );
  }
}
