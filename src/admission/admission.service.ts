import { Inject, Injectable } from '@nestjs/common';
import { DroverError, type Clock, type Timers } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import type { InferenceRequest, Usage } from '../inference/inference-types';
import { CLOCK, CONFIG, TIMERS } from '../runtime/tokens';
import { KeyStoreService } from '../auth/key-store.service';
import { principalOf, type Principal } from '../auth/principal';
import { AdmissionQueue } from './admission-queue';
import { TokenBucket } from './token-bucket';

/**
 * A request admitted before any work was spent on it (tokenizing, image downloads): it holds a
 * concurrency slot and passed the key's limits as they stood. `settle` charges the prompt once its
 * token count is known (and may still refuse it: 429); `done` frees the slot (idempotent) and
 * charges the completion when given usage.
 */
export interface AdmissionTicket {
  settle(promptTokens: number): void;
  done(usage?: Usage): void;
}

export interface Spend {
  key: string;
  requests: number;
  tokens: number;
}

const MAX_TRACKED_KEYS = 100_000;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Admission for inference requests: per-API-key rate limits (requests and tokens per minute, token
 * buckets), then the node's concurrency cap with a bounded queue. Spend is published to listeners
 * so the mesh can apply every node's spend to every node's buckets (a limit holds mesh-wide).
 */
@Injectable()
export class AdmissionService {
  private readonly queue: AdmissionQueue;
  private readonly requestBuckets = new Map<string, TokenBucket>();
  private readonly tokenBuckets = new Map<string, TokenBucket>();
  private readonly spendListeners: ((s: Spend) => void)[] = [];
  /** Tokens spent per key id since this node started, its own and other nodes' (for token budgets). */
  private readonly spent = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TIMERS) timers: Timers,
    @Inject(KeyStoreService) private readonly keys: KeyStoreService,
  ) {
    this.queue = new AdmissionQueue(
      { maxConcurrent: config.maxConcurrentRequests, maxQueued: config.maxQueuedRequests, queueTimeoutMs: config.queueTimeoutMs },
      timers,
    );
  }

  get inFlight(): number {
    return this.queue.inFlight;
  }

  get queued(): number {
    return this.queue.queued;
  }

  onSpend(listener: (s: Spend) => void): void {
    this.spendListeners.push(listener);
  }

  /** Tokens a key has spent mesh-wide as far as this node knows. */
  spentTokens(keyId: string): number {
    return this.spent.get(keyId) ?? 0;
  }

  /** Spend reported by another mesh node: charged without a check. */
  applyRemoteSpend(s: Spend): void {
    const now = this.clock.now();
    const limits = this.limitsOf(this.keys.principalById(s.key));
    if (limits.rpm > 0 && s.requests > 0) this.bucket(this.requestBuckets, s.key, limits.rpm).charge(s.requests, now);
    if (limits.tpm > 0 && s.tokens > 0) this.bucket(this.tokenBuckets, s.key, limits.tpm).charge(s.tokens, now);
    if (s.tokens > 0) this.addSpent(s.key, s.tokens);
  }

  /**
   * Admission before the gateway spends anything on a request: refuses at once (429) a key over
   * its budget, its requests per minute or with no tokens left this minute, then waits for a
   * concurrency slot (429 queue full, 408 queue timeout). Nothing is charged until `settle`.
   */
  async admit(headers: InferenceRequest['headers'], signal: AbortSignal): Promise<AdmissionTicket> {
    const principal = principalOf(headers);
    // Limits are keyed by the authenticated key's id: a made-up token never reaches here.
    const key = principal?.id ?? 'anonymous';
    const limits = this.limitsOf(principal);
    this.precheck(key, limits);
    const release = await this.queue.acquire(signal);
    let settled = false;
    let freed = false;
    let charged = false;
    return {
      settle: (promptTokens: number) => {
        if (settled) return;
        this.checkRateLimits(key, limits, promptTokens);
        settled = true;
      },
      done: (usage?: Usage) => {
        if (!freed) {
          freed = true;
          release();
        }
        if (!usage || charged || !settled) return;
        charged = true;
        if (limits.tpm > 0) this.bucket(this.tokenBuckets, key, limits.tpm).charge(usage.completionTokens, this.clock.now());
        this.addSpent(key, usage.completionTokens);
        this.publish({ key, requests: 0, tokens: usage.completionTokens });
      },
    };
  }

  /** Admission for a request whose prompt size is known up front (HTTP proxying estimates it). */
  async admitRequest(headers: InferenceRequest['headers'], promptTokens: number, signal: AbortSignal): Promise<(usage?: Usage) => void> {
    const ticket = await this.admit(headers, signal);
    try {
      ticket.settle(promptTokens);
    } catch (err) {
      ticket.done();
      throw err;
    }
    return (usage?: Usage) => ticket.done(usage);
  }

  /** A key's own limits where it has them, else the node-wide defaults. */
  private limitsOf(p: Principal | undefined): { rpm: number; tpm: number; budget: number | undefined; tracked: boolean } {
    const rpm = p?.rpm ?? this.config.rateLimitRpm;
    const tpm = p?.tpm ?? this.config.rateLimitTpm;
    const budget = p?.budgetTokens;
    return { rpm, tpm, budget, tracked: rpm > 0 || tpm > 0 || budget !== undefined };
  }

  /**
   * The limits that can be judged before the prompt is known: the budget, a request per minute
   * available, and at least one token per minute left. Spends nothing (checkRateLimits does).
   */
  private precheck(key: string, limits: ReturnType<AdmissionService['limitsOf']>): void {
    if (!limits.tracked) return;
    const now = this.clock.now();
    this.sweep(now);
    if (limits.budget !== undefined && this.spentTokens(key) >= limits.budget) throw budgetUsed(limits.budget);
    const requestWait = limits.rpm > 0 ? this.bucket(this.requestBuckets, key, limits.rpm).waitFor(1, now) : 0;
    if (requestWait > 0) throw rateLimited(`requests per minute (${limits.rpm})`, requestWait);
    const tokenWait = limits.tpm > 0 ? this.bucket(this.tokenBuckets, key, limits.tpm).waitFor(1, now) : 0;
    if (tokenWait > 0) throw rateLimited(`tokens per minute (${limits.tpm})`, tokenWait);
  }

  /**
   * Rate-limit state expires: a bucket that has refilled to capacity says nothing a new bucket
   * would not, so it is dropped (swept at most once a minute, on admission). Together with the cap
   * on tracked keys this bounds the state by the keys active in the last minute or so.
   */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const map of [this.requestBuckets, this.tokenBuckets]) {
      for (const [key, b] of map) if (b.available(now) >= b.capacity) map.delete(key);
    }
  }

  /** Buckets held now (requests and tokens), for tests and the dashboard. */
  get trackedBuckets(): number {
    return this.requestBuckets.size + this.tokenBuckets.size;
  }

  /**
   * Checks every limit before spending any, so a request refused on one limit spends nothing on the
   * other. Spend is recorded (and shared with the mesh) for every key, limited or not, so the admin
   * API can show it and a budget added later starts from the truth.
   */
  private checkRateLimits(key: string, limits: ReturnType<AdmissionService['limitsOf']>, promptTokens: number): void {
    if (!limits.tracked) {
      this.addSpent(key, promptTokens);
      this.publish({ key, requests: 1, tokens: promptTokens });
      return;
    }
    const now = this.clock.now();
    if (limits.budget !== undefined && this.spentTokens(key) >= limits.budget) throw budgetUsed(limits.budget);
    const requests = limits.rpm > 0 ? this.bucket(this.requestBuckets, key, limits.rpm) : undefined;
    const tokens = limits.tpm > 0 ? this.bucket(this.tokenBuckets, key, limits.tpm) : undefined;
    const requestWait = requests?.waitFor(1, now) ?? 0;
    if (requestWait > 0) throw rateLimited(`requests per minute (${limits.rpm})`, requestWait);
    if (tokens && promptTokens > tokens.capacity) {
      // Waiting never helps a prompt larger than the whole budget: no Retry-After.
      throw new DroverError('rate_limited', `Request too large: its prompt of ${promptTokens} tokens exceeds the limit of ${limits.tpm} tokens per minute. Reduce the prompt.`);
    }
    const tokenWait = tokens?.waitFor(promptTokens, now) ?? 0;
    if (tokenWait > 0) throw rateLimited(`tokens per minute (${limits.tpm})`, tokenWait);
    requests?.take(1, now);
    tokens?.take(promptTokens, now);
    this.addSpent(key, promptTokens);
    this.publish({ key, requests: 1, tokens: promptTokens });
  }

  private addSpent(key: string, tokens: number): void {
    if (!this.spent.has(key) && this.spent.size >= MAX_TRACKED_KEYS) this.spent.delete(this.spent.keys().next().value as string);
    this.spent.set(key, this.spentTokens(key) + tokens);
  }

  private publish(s: Spend): void {
    for (const l of this.spendListeners) l(s);
  }

  private bucket(map: Map<string, TokenBucket>, key: string, perMinute: number): TokenBucket {
    let b = map.get(key);
    if (!b || b.ratePerMinute !== perMinute) {
      if (map.size >= MAX_TRACKED_KEYS) map.delete(map.keys().next().value as string);
      b = new TokenBucket(perMinute, perMinute, this.clock.now());
      map.set(key, b);
    }
    return b;
  }
}

function budgetUsed(budget: number): DroverError {
  return new DroverError('rate_limited', `This API key has used its token budget (${budget} tokens).`, { details: { code: 'insufficient_quota' } });
}

function rateLimited(what: string, waitMs: number): DroverError {
  return new DroverError('rate_limited', `Rate limit reached for ${what}. Retry after ${Math.ceil(waitMs / 1000)} s.`, {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}
