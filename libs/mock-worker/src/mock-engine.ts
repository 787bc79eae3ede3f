import { hashString32, noopLogger, SeededRng, type Clock, type Logger, type Rng, type TimerHandle, type Timers } from '@drover/runtime';
import { DEFAULT_ENGINE_CONFIG, NO_FAULTS, type EngineConfig, type EngineFaults } from './engine-config';
import { KvEventLog, type EngineKvBatch } from './kv-events';
import { PrefixCache } from './prefix-cache';

export interface EngineRequest {
  requestId: string;
  inputIds: number[];
  maxNewTokens?: number;
  minNewTokens?: number;
  stopTokenIds?: number[];
  ignoreEos?: boolean;
  /** Seeds the output; without it the prompt's own hash does (same prompt → same answer). */
  seed?: number;
  /** The output to produce, token by token, then EOS (scripted replies, constrained output). */
  script?: number[];
  /** The prompt's KV arrived from a prefill engine (disaggregation): no prefill here, decode at once. */
  kvReady?: boolean;
}

export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface EngineResult extends TokenCounts {
  outputIds: number[];
  finishReason: 'stop' | 'length' | 'abort';
  matchedTokenId?: number;
}

export interface EngineSink {
  onTokens(ids: number[], counts: TokenCounts): void;
  onComplete(result: EngineResult): void;
  /** A failure with a gRPC status code (fault injection, invalid request). */
  onError(grpcStatus: number, message: string): void;
}

export interface EngineLoads {
  numRunningReqs: number;
  numWaitingReqs: number;
  numUsedTokens: number;
  maxTotalNumTokens: number;
  tokenUsage: number;
  waitingUncachedTokens: number;
  cacheHitRate: number;
  genThroughput: number;
}

export interface EngineDeps {
  clock: Clock;
  timers: Timers;
  rng: Rng;
  log?: Logger;
}

export interface EngineInit extends Partial<EngineConfig> {
  /** Token ids the output is drawn from (real vocabulary words). */
  vocabulary?: number[];
  faults?: Partial<EngineFaults>;
}

interface Active {
  req: EngineRequest;
  sink: EngineSink;
  rng: Rng;
  cached: number;
  prefillLeft: number;
  output: number[];
  stalled: boolean;
  maxNew: number;
  /** The engine ends this request on its own after this many output tokens (engine abort rate). */
  abortAfter?: number;
  /** Pool tokens this request holds while running (shared pool): its uncached prompt and output. */
  poolTokens: number;
}

const DEFAULT_MAX_NEW_TOKENS = 256;
const SILENT_SINK: EngineSink = { onTokens: () => undefined, onComplete: () => undefined, onError: () => undefined };
const FALLBACK_VOCAB = Array.from({ length: 1000 }, (_, i) => 1000 + i);

/**
 * A simulated inference engine with continuous batching: requests wait for one of `maxRunning`
 * slots, prefill their uncached tokens in chunks (cost ∝ tokens), then decode one token per step
 * (cost = base + per-running). A finite prefix KV cache in blocks, LRU-evicted, makes repeated
 * prefixes cheap and reports `cached_tokens`. Runs on injected clock/timers, so the same engine
 * serves real gRPC traffic and runs in virtual time.
 */
export class MockEngine {
  readonly config: EngineConfig;
  readonly faults: EngineFaults;
  private readonly cache: PrefixCache;
  private readonly kv: KvEventLog;
  private readonly vocabulary: number[];
  private readonly log: Logger;
  private readonly waiting: Active[] = [];
  private readonly running = new Map<string, Active>();
  private stepTimer: TimerHandle | undefined;
  private lastStepWasPrefill = false;
  /** Shared pool: tokens held by running requests (beside the cached prefixes). */
  private poolUsed = 0;
  private promptTokensTotal = 0;
  private cachedTokensTotal = 0;
  private generatedTotal = 0;
  private readonly startedAt: number;

  constructor(private readonly deps: EngineDeps, init: EngineInit = {}) {
    const { vocabulary, faults, ...config } = init;
    this.config = { ...DEFAULT_ENGINE_CONFIG, ...stripUndefined(config) };
    this.faults = { ...NO_FAULTS, ...stripUndefined(faults ?? {}) };
    this.cache = new PrefixCache(this.config.blockSize, this.config.kvCapacityTokens, this.config.kvHashSalt);
    this.kv = new KvEventLog(this.config.kvEventHistory, this.config.blockSize);
    this.vocabulary = vocabulary && vocabulary.length > 0 ? vocabulary : FALLBACK_VOCAB;
    this.log = deps.log ?? noopLogger;
    this.startedAt = deps.clock.now();
  }

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  submit(req: EngineRequest, sink: EngineSink): void {
    if (req.inputIds.length === 0) {
      sink.onError(3, 'input_ids must not be empty');
      return;
    }
    if (this.faults.failRate > 0 && this.deps.rng.next() < this.faults.failRate) {
      sink.onError(this.faults.failStatus, 'injected failure');
      return;
    }
    const duplicate = this.running.get(req.requestId) ?? this.waiting.find((a) => a.req.requestId === req.requestId);
    if (duplicate && this.config.duplicateIds === 'refuse') {
      sink.onError(6, `request ${req.requestId} already exists`);
      return;
    }
    // 'overwrite': the new request takes the id's state; the first one silently never hears back.
    if (duplicate) {
      duplicate.sink = SILENT_SINK;
      if (this.running.get(req.requestId) === duplicate) this.running.delete(req.requestId);
      else this.waiting.splice(this.waiting.indexOf(duplicate), 1);
      this.poolUsed -= duplicate.poolTokens;
    }
    const seed = req.seed ?? hashIds(req.inputIds);
    const abortAfter = this.faults.engineAbortRate > 0 && this.deps.rng.next() < this.faults.engineAbortRate ? this.deps.rng.int(3) : undefined;
    this.waiting.push({
      req,
      sink,
      rng: new SeededRng(`mock-output:${seed}`),
      cached: 0,
      prefillLeft: 0,
      output: [],
      stalled: false,
      maxNew: req.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
      abortAfter,
      poolTokens: 0,
    });
    this.schedule();
  }

  /** Frees the request's slot at once and completes it with 'abort'. False if unknown (already done). */
  abort(requestId: string): boolean {
    let active = this.running.get(requestId);
    if (active) this.running.delete(requestId);
    else {
      const i = this.waiting.findIndex((a) => a.req.requestId === requestId);
      if (i >= 0) active = this.waiting.splice(i, 1)[0];
    }
    if (!active) return false;
    this.poolUsed -= active.poolTokens;
    active.sink.onComplete(this.result(active, 'abort'));
    this.schedule();
    return true;
  }

  /** Tokens of `inputIds` this engine holds in its KV cache right now (the oracle's ground truth). */
  cachedPrefixTokens(inputIds: readonly number[]): number {
    return this.cache.match(inputIds, false);
  }

  loads(): EngineLoads {
    let waitingUncached = 0;
    for (const w of this.waiting) waitingUncached += w.req.inputIds.length - this.cache.match(w.req.inputIds, false);
    const uptimeS = Math.max(1e-3, (this.deps.clock.now() - this.startedAt) / 1000);
    return {
      numRunningReqs: this.running.size,
      numWaitingReqs: this.waiting.length,
      numUsedTokens: this.cache.usedTokens + this.poolUsed,
      maxTotalNumTokens: this.config.kvCapacityTokens,
      tokenUsage: Math.min(1, (this.cache.usedTokens + this.poolUsed) / this.config.kvCapacityTokens),
      waitingUncachedTokens: waitingUncached,
      cacheHitRate: this.promptTokensTotal > 0 ? this.cachedTokensTotal / this.promptTokensTotal : 0,
      genThroughput: this.generatedTotal / uptimeS,
    };
  }

  onKvEvents(listener: (batch: EngineKvBatch) => void): () => void {
    return this.kv.subscribe(listener);
  }

  kvEventsSince(start: number): EngineKvBatch[] {
    return this.kv.since(start);
  }

  get kvSequence(): number {
    return this.kv.lastSequence;
  }

  flushCache(): void {
    this.cache.clear();
    this.kv.recordCleared(this.deps.clock.now() / 1000);
  }

  /** Stops the step loop (tests and shutdown); in-flight requests are aborted. */
  stop(): void {
    this.deps.timers.clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
    for (const a of [...this.running.values(), ...this.waiting]) a.sink.onComplete(this.result(a, 'abort'));
    this.poolUsed = 0;
    this.running.clear();
    this.waiting.length = 0;
  }

  private schedule(): void {
    if (this.stepTimer !== undefined) return;
    this.admit();
    const prefilling = [...this.running.values()].filter((a) => a.prefillLeft > 0);
    const decoding = [...this.running.values()].filter((a) => a.prefillLeft === 0 && !a.stalled);
    if (prefilling.length === 0 && decoding.length === 0) return;
    // Alternate prefill and decode steps when both have work, so neither starves.
    const doPrefill = prefilling.length > 0 && (decoding.length === 0 || !this.lastStepWasPrefill);
    if (doPrefill) {
      let budget = this.config.prefillChunkTokens;
      const plan: [Active, number][] = [];
      for (const a of prefilling) {
        if (budget <= 0) break;
        const take = Math.min(budget, a.prefillLeft);
        plan.push([a, take]);
        budget -= take;
      }
      const tokens = this.config.prefillChunkTokens - budget;
      const ms = (tokens / this.config.prefillTokensPerSec) * 1000;
      this.lastStepWasPrefill = true;
      this.stepTimer = this.deps.timers.setTimeout(() => this.finishPrefill(plan), ms);
    } else {
      const ms = this.config.decodeBaseMs + this.config.decodePerRunningMs * this.running.size;
      this.lastStepWasPrefill = false;
      this.stepTimer = this.deps.timers.setTimeout(() => this.finishDecode(decoding), ms);
    }
  }

  private admit(): void {
    while (this.running.size < this.config.maxRunning && this.waiting.length > 0) {
      const a = this.waiting[0];
      const len = a.req.inputIds.length;
      const cached = Math.min(this.cache.match(a.req.inputIds), len - 1);
      // Shared pool: the uncached prompt must fit beside the other running requests (cached
      // prefixes give way); a request alone always runs, so one long prompt cannot wedge it.
      if (this.config.sharedKvPool && this.running.size > 0 && this.poolUsed + (len - cached) > this.config.kvCapacityTokens) break;
      this.waiting.shift();
      a.cached = cached;
      // The last prompt token is always computed: it produces the first output token. A prompt
      // whose KV was transferred in is held whole and goes straight to decoding.
      a.prefillLeft = a.req.kvReady ? 0 : len - a.cached;
      if (a.req.kvReady) this.kv.recordChange(this.cache.insert(a.req.inputIds), this.deps.clock.now() / 1000);
      if (this.config.sharedKvPool) this.take(a, len - a.cached);
      this.promptTokensTotal += len;
      this.cachedTokensTotal += a.cached;
      this.running.set(a.req.requestId, a);
    }
  }

  private finishPrefill(plan: [Active, number][]): void {
    this.stepTimer = undefined;
    for (const [a, take] of plan) {
      if (!this.running.has(a.req.requestId)) continue;
      a.prefillLeft -= take;
      if (a.prefillLeft === 0) {
        this.kv.recordChange(this.cache.insert(a.req.inputIds), this.deps.clock.now() / 1000);
        this.emitToken(a); // the prefill pass yields the first token
      }
    }
    this.schedule();
  }

  private finishDecode(batch: Active[]): void {
    this.stepTimer = undefined;
    for (const a of batch) if (this.running.has(a.req.requestId)) this.emitToken(a);
    this.schedule();
  }

  private emitToken(a: Active): void {
    if (this.faults.stallAfterTokens > 0 && a.output.length >= this.faults.stallAfterTokens) {
      a.stalled = true;
      return;
    }
    if (a.abortAfter !== undefined && a.output.length >= a.abortAfter) {
      this.finish(a, 'abort');
      return;
    }
    const token = this.nextToken(a);
    a.output.push(token);
    if (this.config.sharedKvPool) this.take(a, 1);
    this.generatedTotal++;
    const counts = { promptTokens: a.req.inputIds.length, completionTokens: a.output.length, cachedTokens: a.cached };
    a.sink.onTokens([token], counts);
    let finish: EngineResult['finishReason'] | undefined;
    let matched: number | undefined;
    if (token === this.config.eosTokenId && !a.req.ignoreEos) {
      finish = 'stop';
      matched = token;
    } else if (a.req.stopTokenIds?.includes(token)) {
      finish = 'stop';
      matched = token;
    } else if (this.config.echo && a.output.length >= a.req.inputIds.length) {
      finish = 'stop';
    } else if (a.output.length >= a.maxNew) {
      finish = 'length';
    }
    if (finish) this.finish(a, finish, matched);
  }

  private finish(a: Active, reason: EngineResult['finishReason'], matched?: number): void {
    this.running.delete(a.req.requestId);
    this.poolUsed -= a.poolTokens;
    a.poolTokens = 0;
    // An aborted request's output is not kept (the engine frees it); a finished one is cached.
    const cachedIds = reason === 'abort' ? a.req.inputIds : [...a.req.inputIds, ...a.output];
    this.kv.recordChange(this.cache.insert(cachedIds), this.deps.clock.now() / 1000);
    a.sink.onComplete({ ...this.result(a, reason), matchedTokenId: matched });
  }

  /** Shared pool: the request holds `n` more tokens; cached prefixes are evicted to make room. */
  private take(a: Active, n: number): void {
    a.poolTokens += n;
    this.poolUsed += n;
    const room = this.config.kvCapacityTokens - this.poolUsed;
    if (this.cache.usedTokens > room) this.kv.recordChange(this.cache.shrinkTo(room), this.deps.clock.now() / 1000);
  }

  private nextToken(a: Active): number {
    if (this.config.echo) return a.req.inputIds[a.output.length];
    const script = a.req.script;
    if (script) return a.output.length < script.length ? script[a.output.length] : this.config.eosTokenId;
    const canStop = !a.req.ignoreEos && a.output.length >= (a.req.minNewTokens ?? 0);
    if (canStop && a.rng.next() < this.config.eosProbability) return this.config.eosTokenId;
    return this.vocabulary[a.rng.int(this.vocabulary.length)];
  }

  private result(a: Active, finishReason: EngineResult['finishReason']): EngineResult {
    return { outputIds: a.output, finishReason, promptTokens: a.req.inputIds.length, completionTokens: a.output.length, cachedTokens: a.cached };
  }
}

function hashIds(ids: readonly number[]): number {
  let text = '';
  for (const id of ids) text += `${id},`;
  return hashString32(text);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
