import { hasContentIds } from '@drover/multimodal';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { KvBlockIndex, PrefixShards, type RecordedRoute, type ShardsMatch, type TreeOp } from '@drover/radix-tree';
import { createPolicy, type RouteReason, type RoutingPolicy, type RoutingView, type WorkerView } from '@drover/routing';
import { DroverError, type Clock, type Logger, type Metrics, type Rng, type Timers } from '@drover/runtime';
import type { GatewayConfig, POLICIES } from '../config/options';
import { CLOCK, CONFIG, LOGGER, METRICS, RNG, TIMERS } from '../runtime/tokens';
import { KvEventSubscriber } from '../workers/kv-event-subscriber';
import { isServing, roleOf, WORKER_ROLES, type WorkerRecord, type WorkerRole } from '../workers/worker-record';
import type { WorkerKind } from '../workers/worker-url';
import { WorkerRegistryService } from '../workers/worker-registry.service';

export interface RouteInput {
  model: string;
  tokens: ArrayLike<number>;
  headers: Record<string, string | string[] | undefined>;
  user?: string;
  exclude?: ReadonlySet<string>;
  /**
   * Which kind of worker may serve (default grpc). HTTP requests route on text code units, gRPC
   * ones on token ids: a model with both kinds never hands one path the other's workers.
   */
  kind?: WorkerKind;
  /** Generation (default) goes to workers whose model info says is_generation, embed to the others. */
  task?: Task;
  /**
   * Which pool (default regular): prefill and decode workers serve only as a PD pair, so a
   * regular request never lands on one, and each side of a pair is chosen from its own pool.
   */
  role?: WorkerRole;
}

export type Task = 'generate' | 'embed';

export interface RouteResult {
  worker: WorkerRecord;
  reason: RouteReason;
  matchRatio: number;
  /** The tree walk the policy made for this request, reused by `record` (no second walk). */
  prefixMatch?: ShardsMatch;
}

/** Per-model routing settings (PUT /admin/policies/:model; shared over the mesh). */
export interface ModelPolicySettings {
  policy: (typeof POLICIES)[number];
  cacheThreshold?: number;
  balanceAbsThreshold?: number;
  balanceRelThreshold?: number;
  /** Retries on another worker for this model (else --max-retries). */
  maxRetries?: number;
}

interface ModelRouting {
  policy: RoutingPolicy;
  /** Chooses the decode side of PD pairs (--decode-policy); the prefill side uses `policy`. */
  decodePolicy: RoutingPolicy;
  settings: ModelPolicySettings;
  shards: PrefixShards;
  view: RoutingView;
  /** The model's worker ids per kind (rebuilt with the view), to exclude the other kind. */
  idsByKind: Record<WorkerKind, Set<string>>;
  /** Its gRPC worker ids per task (is_generation), to exclude the other task's engines. */
  idsByTask: Record<Task, Set<string>>;
  /** Per role, the model's worker ids of the other roles (excluded when selecting for that role). */
  otherRoles: Record<WorkerRole, Set<string>>;
  /** The model has both prefill and decode workers registered: it is served disaggregated. */
  disaggregated: boolean;
  decisions: Record<RouteReason, number>;
  /** The walk made by the view's `match` during the current `select` (select is synchronous). */
  lastMatch?: { tokens: ArrayLike<number>; match: ShardsMatch };
}

/**
 * Routes each request with the model's policy over an immutable view of its workers (rebuilt
 * when the registry changes, never per request). Prefix knowledge comes from this node's routing
 * tree plus the mesh's replicas (PrefixShards), and, for workers that stream KV events, from their
 * exact block index instead.
 */
@Injectable()
export class RoutingService implements OnModuleInit, OnApplicationShutdown {
  private readonly rng: Rng;
  private readonly models = new Map<string, ModelRouting>();
  private readonly kvIndex = new KvBlockIndex();
  private readonly kvSubscribers = new Map<string, KvEventSubscriber>();
  private readonly opListeners: ((model: string, op: TreeOp) => void)[] = [];
  private readonly policyListeners: ((model: string, settings: ModelPolicySettings) => void)[] = [];
  private readonly overrides = new Map<string, ModelPolicySettings>();
  private meshInFlight: (workerId: string) => number = () => 0;
  private meshAwaitingFirstToken: (workerId: string) => number = () => 0;
  private readonly reportedEvictions = new Map<string, number>();

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(RNG) rng: Rng,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TIMERS) private readonly timers: Timers,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
  ) {
    this.rng = rng.fork('routing');
    (metrics as Metrics & { onScrape?: (hook: () => void) => void }).onScrape?.(() => this.publishTreeStats());
  }

  onModuleInit(): void {
    this.registry.onChange((e) => {
      if (e.type === 'removed') {
        this.kvSubscribers.get(e.worker.id)?.stop();
        this.kvSubscribers.delete(e.worker.id);
        this.kvIndex.reset(e.worker.id);
        for (const [model, m] of this.models) this.emitOp(model, m.shards.removeWorker(e.worker.id));
      } else if (this.config.kvEvents && e.worker.client && !this.kvSubscribers.has(e.worker.id)) {
        const sub = new KvEventSubscriber(e.worker.id, e.worker.client, { apply: (id, b) => this.kvIndex.apply(id, b.events, b.dpRank), reset: (id) => this.kvIndex.reset(id), markStale: (id) => this.kvIndex.markStale(id) }, this.timers, this.log, this.metrics, this.clock);
        this.kvSubscribers.set(e.worker.id, sub);
        sub.start();
      }
      this.rebuildViews();
    });
    this.rebuildViews();
  }

  onApplicationShutdown(): void {
    for (const s of this.kvSubscribers.values()) s.stop();
  }

  /** The mesh plugs in here: ops this node appends, and the other nodes' load per worker. */
  onRouteOp(listener: (model: string, op: TreeOp) => void): void {
    this.opListeners.push(listener);
  }

  setMeshInFlight(fn: (workerId: string) => number): void {
    this.meshInFlight = fn;
  }

  /** Other nodes' requests on a worker still awaiting their first token (the mesh load's `queued`). */
  setMeshAwaitingFirstToken(fn: (workerId: string) => number): void {
    this.meshAwaitingFirstToken = fn;
  }

  /** Changes one model's policy and thresholds; `publish` tells the mesh (false for changes that came from it). */
  setModelPolicy(model: string, settings: ModelPolicySettings, publish = true): void {
    this.overrides.set(model, settings);
    const m = this.modelRouting(model);
    m.settings = settings;
    m.policy = this.makePolicy(settings);
    this.log.info({ model, ...settings }, 'routing policy changed');
    if (publish) for (const l of this.policyListeners) l(model, settings);
  }

  /** Has the model prefill and decode workers (served as PD pairs)? O(1): read off the current view. */
  isDisaggregated(model: string): boolean {
    return this.modelRouting(model).disaggregated;
  }

  settingsFor(model: string): ModelPolicySettings {
    return this.modelRouting(model).settings;
  }

  onPolicyChange(listener: (model: string, settings: ModelPolicySettings) => void): void {
    this.policyListeners.push(listener);
  }

  /** The model's routing state, created on first use (the mesh applies peers' ops into it). */
  shardsFor(model: string): PrefixShards {
    return this.modelRouting(model).shards;
  }

  select(input: RouteInput): RouteResult {
    const m = this.modelRouting(input.model);
    const foreign = m.idsByKind[input.kind === 'http' ? 'grpc' : 'http'];
    const otherTask = m.idsByTask[input.task === 'embed' ? 'generate' : 'embed'];
    const otherRoles = m.otherRoles[input.role ?? 'regular'];
    // Usually all are empty (one kind, one task and one role per model): no copy on the request path.
    const exclude = foreign.size === 0 && otherTask.size === 0 && otherRoles.size === 0 ? input.exclude : new Set([...(input.exclude ?? []), ...foreign, ...otherTask, ...otherRoles]);
    m.lastMatch = undefined;
    const policy = input.role === 'decode' ? m.decodePolicy : m.policy;
    const decision = policy.select(m.view, { tokens: input.tokens, headers: input.headers, user: input.user, exclude }, this.rng);
    const walked = m.lastMatch as ModelRouting['lastMatch'];
    m.lastMatch = undefined;
    const worker = decision ? this.registry.find(decision.workerId) : undefined;
    if (!decision || !worker) {
      throw new DroverError('no_healthy_worker', `no healthy worker is available for model '${input.model}'`, { retryAfterSeconds: 1 });
    }
    // The decode side of a PD pair is a load decision: it would dilute the model's cache-hit figures.
    if (input.role !== 'decode') m.decisions[decision.reason]++;
    this.metrics.inc('drover_routing_decisions_total', { model: input.model, policy: policy.name, outcome: decision.reason });
    this.metrics.observe('drover_routing_match_ratio', decision.matchRatio, { model: input.model, policy: policy.name });
    return { worker, reason: decision.reason, matchRatio: decision.matchRatio, prefixMatch: walked?.tokens === input.tokens ? walked.match : undefined };
  }

  /**
   * The request was dispatched to the worker: it now holds the prompt (approximate mode), shared
   * with the mesh. Continues from the policy's own walk when there was one. Keep the result: a
   * call that fails before its first token is taken back with `withdraw`.
   */
  record(input: RouteInput, worker: WorkerRecord, route?: RouteResult): RecordedRoute {
    const m = this.modelRouting(input.model);
    const walked = route?.worker === worker ? route.prefixMatch : undefined;
    const recorded = m.shards.recordFrom(walked ?? m.shards.match(input.tokens), worker.id);
    this.emitOp(input.model, recorded.op);
    return recorded;
  }

  /** The worker never produced output for a recorded request: it does not hold that prefix after all. */
  withdraw(model: string, recorded: RecordedRoute): void {
    this.emitOp(model, this.modelRouting(model).shards.withdraw(recorded));
  }

  /** Tree sizes and evictions, read at scrape time rather than on the request path. */
  publishTreeStats(): void {
    for (const [model, m] of this.models) {
      const s = m.shards.stats();
      this.metrics.set('drover_routing_tree_nodes', s.nodes, { model });
      this.metrics.set('drover_routing_tree_tokens', s.tokens, { model });
      this.metrics.inc('drover_routing_tree_evictions_total', { model }, s.evictions - (this.reportedEvictions.get(model) ?? 0));
      this.reportedEvictions.set(model, s.evictions);
    }
    for (const [id, sub] of this.kvSubscribers) this.metrics.set('drover_worker_kv_event_sequence', sub.lastSequence, { worker: id });
  }

  stats(): { model: string; policy: string; settings: ModelPolicySettings; treeNodes: number; treeTokens: number; evictions: number; shards: number; hitRatio: number | null; decisions: Record<RouteReason, number>; kvEventWorkers: number }[] {
    const models = new Set([...this.models.keys(), ...this.registry.list().map((w) => w.model).filter((x): x is string => !!x)]);
    return [...models].sort().map((model) => {
      const m = this.modelRouting(model);
      const s = m.shards.stats();
      const total = Object.values(m.decisions).reduce((a, b) => a + b, 0);
      return {
        model,
        policy: m.policy.name,
        settings: m.settings,
        treeNodes: s.nodes,
        treeTokens: s.tokens,
        evictions: s.evictions,
        shards: s.shards,
        hitRatio: total > 0 ? m.decisions.cache_hit / total : null,
        decisions: { ...m.decisions },
        kvEventWorkers: [...this.kvSubscribers.values()].filter((x) => x.supported).length,
      };
    });
  }

  private emitOp(model: string, op: TreeOp): void {
    for (const l of this.opListeners) l(model, op);
  }

  private modelRouting(model: string): ModelRouting {
    let m = this.models.get(model);
    if (!m) {
      const settings = this.overrides.get(model) ?? { policy: this.config.policy };
      const shards = new PrefixShards(this.config.treeBudgetTokens);
      m = { policy: this.makePolicy(settings), decodePolicy: this.makePolicy({ policy: this.config.decodePolicy }), settings, shards, view: { workers: [], match: () => new Map() }, idsByKind: { grpc: new Set(), http: new Set() }, idsByTask: { generate: new Set(), embed: new Set() }, otherRoles: { regular: new Set(), prefill: new Set(), decode: new Set() }, disaggregated: false, decisions: { cache_hit: 0, load_guard: 0, miss: 0, policy: 0 } };
      this.models.set(model, m);
      m.view = this.buildView(model, m);
    }
    return m;
  }

  private makePolicy(s: ModelPolicySettings): RoutingPolicy {
    return createPolicy(
      s.policy,
      {
        cacheThreshold: s.cacheThreshold ?? this.config.cacheThreshold,
        balanceAbsThreshold: s.balanceAbsThreshold ?? this.config.balanceAbsThreshold,
        balanceRelThreshold: s.balanceRelThreshold ?? this.config.balanceRelThreshold,
        // A per-model warm margin moves the cold one with it (twice it), as in createPolicy.
        coldBalanceAbsThreshold: s.balanceAbsThreshold !== undefined ? 2 * s.balanceAbsThreshold : this.config.coldBalanceAbsThreshold,
        prefixHashTokens: this.config.prefixHashTokens,
        boundedLoadFactor: this.config.boundedLoadFactor,
        virtualNodes: this.config.virtualNodes,
        loadSampleSize: this.config.loadSampleSize,
        stickyIdleMs: this.config.stickyIdleMs,
        maxStickySessions: this.config.maxStickySessions,
      },
      { clock: this.clock },
    );
  }

  private rebuildViews(): void {
    for (const model of new Set(this.registry.list().map((w) => w.model).filter((x): x is string => !!x))) this.modelRouting(model);
    for (const [model, m] of this.models) m.view = this.buildView(model, m);
  }

  private idsByKind(model: string): Record<WorkerKind, Set<string>> {
    const out: Record<WorkerKind, Set<string>> = { grpc: new Set(), http: new Set() };
    for (const w of this.registry.list()) if (w.model === model) out[w.kind].add(w.id);
    return out;
  }

  private buildView(model: string, m: ModelRouting): RoutingView {
    const records = this.registry.list().filter((w) => w.model === model);
    m.idsByKind = this.idsByKind(model);
    m.idsByTask = { generate: new Set(), embed: new Set() };
    // A worker whose model info has not arrived yet is taken for a generation engine (not routable anyway).
    for (const w of records) if (w.kind === 'grpc') m.idsByTask[w.modelInfo?.isGeneration === false ? 'embed' : 'generate'].add(w.id);
    m.otherRoles = { regular: new Set(), prefill: new Set(), decode: new Set() };
    for (const w of records) for (const role of WORKER_ROLES) if (roleOf(w) !== role) m.otherRoles[role].add(w.id);
    m.disaggregated = records.some((w) => roleOf(w) === 'prefill') && records.some((w) => roleOf(w) === 'decode');
    const workers: WorkerView[] = records.map((w) => ({
      id: w.id,
      // Health can change between rebuilds: read it live, the fleet list itself stays immutable.
      get healthy() {
        return isServing(w);
      },
      get circuitOpen() {
        return !w.circuit.canPass();
      },
      inFlight: () => w.inFlight + this.meshInFlight(w.id),
      awaitingFirstToken: () => w.awaitingFirstToken + this.meshAwaitingFirstToken(w.id),
      load: () => (w.load ? { runningReqs: w.load.numRunningReqs, waitingReqs: w.load.numWaitingReqs, queuedTokens: w.load.waitingUncachedTokens, kvUsage: w.load.tokenUsage } : undefined),
    }));
    const kvWorkers = (): Set<string> => new Set([...this.kvSubscribers.entries()].filter(([, s]) => s.supported).map(([id]) => id));
    return {
      workers,
      match: (tokens) => {
        const walk = m.shards.match(tokens);
        m.lastMatch = { tokens, match: walk };
        const approx = walk.perOwner;
        const exact = kvWorkers();
        // Image content ids exist only in the gateway's tree (engines hash image blocks their own way).
        if (exact.size === 0 || hasContentIds(tokens)) return approx;
        // Workers streaming KV events: their exact block index replaces the approximate tree.
        const out = new Map([...approx].filter(([id]) => !exact.has(id)));
        for (const [id, len] of this.kvIndex.matchTokens(tokens)) if (exact.has(id)) out.set(id, len);
        return out;
      },
    };
  }
}
