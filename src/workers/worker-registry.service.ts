import { Inject, Injectable, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DroverError, type Clock, type Logger, type Metrics, type TimerHandle, type Timers } from '@drover/runtime';
import { WorkerClient, WorkerRpcError } from '@drover/worker-proto';
import { status } from '@grpc/grpc-js';
import type { GatewayConfig } from '../config/options';
import { CLOCK, CONFIG, LOGGER, METRICS, TIMERS } from '../runtime/tokens';
import { Egress, isEgressDenied } from '../egress/egress';
import { EgressService } from '../egress/egress.service';
import { CircuitBreaker } from './circuit-breaker';
import { healthProfile } from './health-profile';
import { nextHealth, type HealthResult } from './health-verdict';
import { connectHttpWorker, checkHttpWorker } from './http-worker-connect';
import { isRoutable, roleOf, type WorkerRecord, type WorkerSpec } from './worker-record';
import { readEnginePdInfo } from './engine-pd-info';
import { normaliseWorkerUrl, workerKindOf, type WorkerKind } from './worker-url';

/** Who caused a registry change: the HTTP API, the startup config, the mesh, or health checks. */
export type ChangeOrigin = 'api' | 'config' | 'mesh' | 'health';
export type RegistryEvent = { type: 'added' | 'updated' | 'removed'; worker: WorkerRecord; origin: ChangeOrigin };

/**
 * One request dispatched to one worker, from `acquire()` until `release()`. It remembers whether
 * its first token arrived, so every way out (success, error, abort, timeout, retry) settles the
 * worker's counters exactly once.
 */
export interface WorkerDispatch {
  readonly worker: WorkerRecord;
  /** Still counted in the worker's `awaitingFirstToken`. */
  awaitingFirstToken: boolean;
  released: boolean;
}

/**
 * The workers this node knows: connects to each (detecting its gRPC contract), reads its model
 * info, health-checks it, counts its in-flight requests and drains it before removal.
 */
@Injectable()
export class WorkerRegistryService implements OnModuleInit, OnApplicationShutdown {
  /** HTTP workers connect only where the worker egress policy allows (--egress-allow-workers). */
  private readonly egress: Egress;
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly listeners: ((e: RegistryEvent) => void)[] = [];
  private healthTimer: TimerHandle | undefined;
  private readonly drainWaiters = new Map<string, (() => void)[]>();
  /** Workers whose health check is in progress. */
  private readonly checking = new Set<string>();
  private changes = 0;
  private snapshot: { version: number; workers: WorkerRecord[] } | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TIMERS) private readonly timers: Timers,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Optional() @Inject(EgressService) egress?: EgressService,
  ) {
    (metrics as Metrics & { onScrape?: (hook: () => void) => void }).onScrape?.(() => this.publishLoadGauges());
    this.egress = egress?.workers ?? new Egress([]);
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(
      [
        ...this.config.workerUrls.map((url): WorkerSpec => ({ url })),
        ...this.config.prefillUrls.map((url): WorkerSpec => ({ url, role: 'prefill' })),
        ...this.config.decodeUrls.map((url): WorkerSpec => ({ url, role: 'decode' })),
      ].map((spec) =>
        this.add(spec, 'config').catch((err) => this.log.warn({ url: spec.url, role: spec.role, err: (err as Error).message }, 'could not register worker')),
      ),
    );
    this.healthTimer = this.timers.setInterval(() => void this.checkAll(), this.config.healthCheckIntervalMs);
  }

  onApplicationShutdown(): void {
    this.timers.clearInterval(this.healthTimer);
    for (const w of this.workers.values()) w.client?.close();
  }

  onChange(listener: (e: RegistryEvent) => void): void {
    this.listeners.push(listener);
  }

  list(): WorkerRecord[] {
    return [...this.workers.values()];
  }

  /**
   * Bumped by every change that can alter what the registry serves (a worker added, updated,
   * removed, connected, or its health or circuit changed): per-request readers keep snapshots
   * keyed by it instead of rebuilding them.
   */
  get version(): number {
    return this.changes;
  }

  /** The worker list as of `version`, shared and read-only: no copy per request. */
  workersSnapshot(): readonly WorkerRecord[] {
    if (this.snapshot?.version !== this.changes) this.snapshot = { version: this.changes, workers: [...this.workers.values()] };
    return this.snapshot.workers;
  }

  find(id: string): WorkerRecord | undefined {
    return this.workers.get(id);
  }

  get(id: string): WorkerRecord {
    const w = this.workers.get(id);
    if (!w) throw DroverError.notFound(`worker '${id}' not found`, 'id');
    return w;
  }

  /** Routable workers of a model, optionally of one kind only (the gRPC and HTTP paths never mix). */
  routable(model: string, kind?: WorkerKind): WorkerRecord[] {
    return this.workersSnapshot().filter((w) => w.model === model && (kind === undefined || w.kind === kind) && isRoutable(w));
  }

  hasRoutableWorker(): boolean {
    return this.workersSnapshot().some(isRoutable);
  }

  /** Registers a worker. Connection problems leave it registered as not_ready (health checks retry). */
  async add(spec: WorkerSpec, origin: ChangeOrigin = 'api'): Promise<WorkerRecord> {
    const url = normaliseWorkerUrl(spec.url);
    checkRole(spec, url);
    await this.checkEgress(url);
    if (this.list().some((w) => w.spec.url === url)) {
      throw new DroverError('conflict', `a worker with url '${url}' is already registered`, { param: 'url' });
    }
    const record: WorkerRecord = {
      id: workerIdFor(url),
      spec: { ...spec, url },
      kind: workerKindOf(url),
      client: undefined,
      http: undefined,
      upstreamModel: undefined,
      protocol: undefined,
      modelInfo: undefined,
      model: spec.model,
      health: 'pending',
      healthMessage: 'connecting',
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      draining: false,
      inFlight: 0,
      awaitingFirstToken: 0,
      circuit: this.newCircuit(workerIdFor(url), url),
      load: undefined,
      reportedBootstrapPort: undefined,
      reportedRole: undefined,
      createdAt: this.clock.now(),
      lastCheckedAt: undefined,
    };
    this.workers.set(record.id, record);
    this.changes++;
    await this.connect(record);
    this.emit({ type: 'added', worker: record, origin });
    return record;
  }

  /** Replaces a worker's spec (PUT) or merges fields into it (PATCH). A URL change reconnects. */
  async update(id: string, patch: Partial<WorkerSpec>, replace: boolean, origin: ChangeOrigin = 'api'): Promise<WorkerRecord> {
    const record = this.get(id);
    const next: WorkerSpec = replace ? { url: record.spec.url, ...patch } : { ...record.spec, ...patch };
    next.url = normaliseWorkerUrl(next.url);
    checkRole(next, next.url);
    if (next.url !== record.spec.url) await this.checkEgress(next.url);
    if (next.url !== record.spec.url && this.list().some((w) => w.spec.url === next.url)) {
      throw new DroverError('conflict', `a worker with url '${next.url}' is already registered`, { param: 'url' });
    }
    const reconnect = next.url !== record.spec.url || next.protocol !== record.spec.protocol || next.apiKey !== record.spec.apiKey;
    record.spec = next;
    record.model = next.model ?? this.config.modelName ?? record.modelInfo?.servedModelName;
    if (reconnect) {
      record.client?.close();
      record.client = undefined;
      record.http?.close();
      record.http = undefined;
      record.kind = workerKindOf(next.url);
      record.health = 'pending';
      await this.connect(record);
    }
    this.emit({ type: 'updated', worker: record, origin });
    return record;
  }

  /** Stops routing to the worker, waits for its in-flight requests (bounded), then removes it. */
  async remove(id: string, origin: ChangeOrigin = 'api'): Promise<void> {
    const record = this.get(id);
    record.draining = true;
    this.emit({ type: 'updated', worker: record, origin: 'health' });
    await this.waitDrained(record, this.config.drainTimeoutMs);
    this.workers.delete(id);
    this.changes++;
    record.client?.close();
    record.http?.close();
    this.publishGauges();
    this.emit({ type: 'removed', worker: record, origin });
    this.log.info({ worker: id, url: record.spec.url }, 'worker removed');
  }

  /**
   * Called by the inference path before every worker call: the request is in flight and awaits
   * its first token. Pass the returned dispatch to `firstToken()` and `release()`.
   */
  acquire(w: WorkerRecord): WorkerDispatch {
    w.inFlight++;
    w.awaitingFirstToken++;
    w.circuit.onSend();
    return { worker: w, awaitingFirstToken: true, released: false };
  }

  /** The dispatch's first token (or first byte) arrived: it no longer waits on prefill. Idempotent. */
  firstToken(d: WorkerDispatch): void {
    if (!d.awaitingFirstToken || d.released) return;
    d.awaitingFirstToken = false;
    d.worker.awaitingFirstToken = Math.max(0, d.worker.awaitingFirstToken - 1);
  }

  /**
   * Ends a worker call, whatever its outcome (call it from a `finally`). `failed` counts against
   * the circuit (connect errors, UNAVAILABLE, overload, timeouts, 5xx). With the dispatch, a second
   * release is a no-op and a call that never saw its first token stops awaiting one; without it
   * (older callers) `awaitingFirstToken` is still clamped to `inFlight`, so it cannot outlive the
   * calls it counts.
   */
  release(w: WorkerRecord, outcome: 'ok' | 'failed' | 'neutral' = 'neutral', d?: WorkerDispatch): void {
    if (d) {
      if (d.released) return;
      d.released = true;
      if (d.awaitingFirstToken) {
        d.awaitingFirstToken = false;
        w.awaitingFirstToken = Math.max(0, w.awaitingFirstToken - 1);
      }
    }
    if (outcome === 'ok') w.circuit.onSuccess();
    else if (outcome === 'failed') w.circuit.onFailure();
    w.inFlight = Math.max(0, w.inFlight - 1);
    w.awaitingFirstToken = Math.min(w.awaitingFirstToken, w.inFlight);
    if (w.inFlight === 0) {
      const waiters = this.drainWaiters.get(w.id);
      this.drainWaiters.delete(w.id);
      waiters?.forEach((fn) => fn());
    }
  }

  /** In-flight gauges are read at scrape time: counters on the request path, labels only per scrape. */
  private publishLoadGauges(): void {
    for (const w of this.workers.values()) {
      this.metrics.set('drover_worker_in_flight', w.inFlight, { worker: w.id });
      this.metrics.set('drover_worker_awaiting_first_token', w.awaitingFirstToken, { worker: w.id });
    }
  }

  totalInFlight(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.inFlight;
    return n;
  }

  async checkAll(): Promise<void> {
    const now = this.clock.now();
    await Promise.all(
      this.list()
        // A check still running is not doubled (an SGLang check can take seconds under load), and
        // SGLang workers keep their own interval (each check is a generation on the engine).
        .filter((w) => !this.checking.has(w.id) && this.due(w, now))
        .map(async (w) => {
          this.checking.add(w.id);
          try {
            await this.check(w);
          } finally {
            this.checking.delete(w.id);
          }
        }),
    );
  }

  /** The timer ticks at the generic interval; a worker with a longer one waits out its own. */
  private due(w: WorkerRecord, now: number): boolean {
    const own = healthProfile(this.config, w).intervalMs;
    const tick = this.config.healthCheckIntervalMs;
    // lastCheckedAt is when the previous check ended: half a tick of slack for its duration.
    return own <= tick || w.lastCheckedAt === undefined || now - w.lastCheckedAt >= own - tick / 2;
  }

  private async connect(record: WorkerRecord): Promise<void> {
    if (record.kind === 'http') return this.connectHttp(record);
    try {
      const client = await WorkerClient.connect(record.spec.url, {
        protocol: record.spec.protocol ?? 'auto',
        timeoutMs: this.config.workerConnectTimeoutMs,
        apiKey: record.spec.apiKey ?? this.config.workerApiKey,
      });
      const info = await client.getModelInfo({ deadlineMs: this.config.workerConnectTimeoutMs });
      record.client = client;
      record.protocol = client.protocol;
      record.modelInfo = info;
      record.model = record.spec.model ?? this.config.modelName ?? info.servedModelName;
      const pd = await readEnginePdInfo(client, this.config.workerConnectTimeoutMs);
      record.reportedRole = pd.role;
      record.reportedBootstrapPort = pd.bootstrapPort;
      // The spec decides (an engine may not say); a disagreement is a misconfiguration worth a warning:
      // a prefill or decode engine refuses requests without PD parameters, a regular one ignores them.
      if (pd.role !== undefined && pd.role !== roleOf(record)) this.log.warn({ worker: record.id, url: record.spec.url, role: roleOf(record), engineRole: pd.role }, 'the engine reports another disaggregation role than the worker was registered with');
      this.changes++;
      await this.check(record);
      this.log.info({ worker: record.id, url: record.spec.url, protocol: client.protocol, model: record.model }, 'worker connected');
    } catch (err) {
      record.health = 'not_ready';
      record.healthMessage = `connect failed: ${(err as Error).message}`;
      this.log.warn({ worker: record.id, url: record.spec.url, err: (err as Error).message }, 'worker connect failed');
    }
  }

  /**
   * An HTTP worker's host must resolve only to allowed addresses: refused at registration with a
   * 400 (the connection itself is checked again at connect time, so a DNS change cannot sneak
   * past). A name that does not resolve yet is let through (it stays not_ready until it does).
   */
  private async checkEgress(url: string): Promise<void> {
    if (workerKindOf(url) !== 'http') return;
    try {
      await this.egress.resolveAllowed(new URL(url).hostname);
    } catch (err) {
      if (isEgressDenied(err)) throw DroverError.invalidRequest("the worker URL's address is not allowed by the egress policy (loopback, link-local, private and metadata ranges are refused unless --egress-allow-workers allows them)", 'url');
    }
  }

  /** An OpenAI-compatible server: its model list names the model (and context length), then a health check. */
  private async connectHttp(record: WorkerRecord): Promise<void> {
    try {
      await connectHttpWorker(record, this.config.modelName, this.config.workerConnectTimeoutMs, this.egress);
      this.changes++;
      await this.check(record);
      this.log.info({ worker: record.id, url: record.spec.url, kind: 'http', model: record.model, upstreamModel: record.upstreamModel }, 'worker connected');
    } catch (err) {
      record.health = 'not_ready';
      record.healthMessage = `connect failed: ${(err as Error).message}`;
      this.log.warn({ worker: record.id, url: record.spec.url, err: (err as Error).message }, 'worker connect failed');
    }
  }

  private async check(record: WorkerRecord): Promise<void> {
    if (record.kind === 'grpc' ? !record.client : !record.http) {
      if (!this.workers.has(record.id)) return;
      return this.connect(record);
    }
    const before = record.health;
    const thresholds = { failureThreshold: this.config.healthFailureThreshold, successThreshold: this.config.healthSuccessThreshold };
    const apply = (result: HealthResult, message: string): void => {
      Object.assign(record, nextHealth(record, result, thresholds));
      record.healthMessage = message;
    };
    try {
      if (record.kind === 'http') {
        const res = await checkHttpWorker(record, this.config.healthCheckTimeoutMs);
        apply(res.healthy ? 'healthy' : 'unhealthy', res.message);
      } else {
        const client = record.client!;
        const res = await client.healthCheck({ deadlineMs: healthProfile(this.config, record).timeoutMs });
        apply(res.healthy ? 'healthy' : 'unhealthy', res.message || (res.healthy ? 'ok' : 'unhealthy'));
        record.load = await client.getLoads({ deadlineMs: this.config.healthCheckTimeoutMs }).catch(() => record.load);
      }
    } catch (err) {
      apply(isTimeout(err) ? 'timeout' : 'unreachable', (err as Error).message);
    }
    record.lastCheckedAt = this.clock.now();
    if (before !== record.health) {
      this.log.info({ worker: record.id, from: before, to: record.health, message: record.healthMessage }, 'worker health changed');
      this.publishGauges();
      this.emit({ type: 'updated', worker: record, origin: 'health' });
      if (record.health === 'failed' && this.config.removeFailedWorkers && this.workers.has(record.id)) {
        this.log.warn({ worker: record.id }, 'removing failed worker');
        void this.remove(record.id).catch(() => undefined);
      }
    }
  }

  private waitDrained(record: WorkerRecord, timeoutMs: number): Promise<void> {
    if (record.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(resolve, timeoutMs);
      const list = this.drainWaiters.get(record.id) ?? [];
      list.push(() => {
        this.timers.clearTimeout(timer);
        resolve();
      });
      this.drainWaiters.set(record.id, list);
    });
  }

  private newCircuit(id: string, url: string): CircuitBreaker {
    const config = {
      failureThreshold: this.config.circuitFailureThreshold,
      cooldownMs: this.config.circuitCooldownMs,
      halfOpenMaxProbes: this.config.circuitHalfOpenProbes,
      successThreshold: this.config.circuitSuccessThreshold,
    };
    return new CircuitBreaker(this.clock, config, (state) => {
      this.log.warn({ worker: id, url, circuit: state }, 'worker circuit changed');
      this.publishGauges();
      const record = this.workers.get(id);
      if (record) this.emit({ type: 'updated', worker: record, origin: 'health' });
    });
  }

  /** Health and circuit state as one-hot gauges; reset first so removed workers disappear. */
  private publishGauges(): void {
    const prom = this.metrics as Metrics & { resetGauge?: (name: string) => void };
    prom.resetGauge?.('drover_worker_health');
    prom.resetGauge?.('drover_worker_circuit_state');
    for (const w of this.workers.values()) {
      this.metrics.set('drover_worker_health', 1, { worker: w.id, state: w.health });
      this.metrics.set('drover_worker_circuit_state', 1, { worker: w.id, state: w.circuit.state });
    }
  }

  private emit(e: RegistryEvent): void {
    this.changes++;
    for (const l of this.listeners) l(e);
  }
}

/** Prefill and decode roles are gRPC contract features (bootstrap rooms, KV transfer parameters). */
function checkRole(spec: WorkerSpec, url: string): void {
  if ((spec.role ?? 'regular') !== 'regular' && workerKindOf(url) !== 'grpc') {
    throw DroverError.invalidRequest(`role '${spec.role}' needs a gRPC worker (grpc:// or grpcs://): prefill/decode disaggregation runs over the engine contracts`, 'role');
  }
  if (spec.bootstrapPort !== undefined && spec.role !== 'prefill') throw DroverError.invalidRequest("'bootstrapPort' is only meaningful for a prefill worker", 'bootstrapPort');
}

/** Stable across nodes: the same URL gets the same id everywhere in the mesh. */
export function workerIdFor(url: string): string {
  return `w-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

/** A health check that ran out of time (gRPC DEADLINE_EXCEEDED, or an HTTP check's abort on timeout). */
function isTimeout(err: unknown): boolean {
  if (err instanceof WorkerRpcError) return err.grpcCode === status.DEADLINE_EXCEEDED;
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
