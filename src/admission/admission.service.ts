import { Inject, Injectable } from '@nestjs/common';
import { DroverError, type Clock, type Timers } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import type { InferenceRequest, Usage } from '../inference/inference-types';
import { CLOCK, CONFIG, TIMERS } from '../runtime/tokens';
import { KeyStoreService } from '../auth/key-store.service';
import { principalOf, type Principal } from '../auth/principal';
import { AdmissionQueue } from './admission-queue';
import { TokenBucket } from './token-bucket';

export interface Spend {
  key: string;
  requests: number;
  tokens: number;
}

const MAX_TRACKED_KEYS = 100_000;

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

  /** Admits a request or throws 429/408. Returns the release to call when it ends. */
  async admit(req: InferenceRequest): Promise<(usage?: Usage) => void> {
    return this.admitRequest(req.headers, req.promptIds.length, req.signal);
  }

  /** The same admission for a request the gateway did not tokenize (HTTP proxying estimates its prompt tokens). */
  async admitRequest(headers: InferenceRequest['headers'], promptTokens: number, signal: AbortSignal): Promise<(usage?: Usage) => void> {
    const principal = principalOf(headers);
    // Limits are keyed by the authenticated key's id: a made-up token never reaches here.
    const key = principal?.id ?? 'anonymous';
    const limits = this.limitsOf(principal);
    this.checkRateLimits(key, limits, promptTokens);
    const release = await this.queue.acquire(signal);
    return (usage?: Usage) => {
      release();
      if (!usage) return;
      if (limits.tpm > 0) this.bucket(this.tokenBuckets, key, limits.tpm).charge(usage.completionTokens, this.clock.now());
      this.addSpent(key, usage.completionTokens);
      this.publish({ key, requests: 0, tokens: usage.completionTokens });
    };
  }

  /** A key's own limits where it has them, else the node-wide defaults. */
  private limitsOf(p: Principal | undefined): { rpm: number; tpm: number; budget: number | undefined; tracked: boolean } {
    const rpm = p?.rpm ?? this.config.rateLimitRpm;
    const tpm = p?.tpm ?? this.config.rateLimitTpm;
    const budget = p?.budgetTokens;
    return { rpm, tpm, budget, tracked: rpm > 0 || tpm > 0 || budget !== undefined };
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
    if (limits.budget !== undefined && this.spentTokens(key) >= limits.budget) {
      throw new DroverError('rate_limited', `This API key has used its token budget (${limits.budget} tokens).`, { details: { code: 'insufficient_quota' } });
    }
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

function rateLimited(what: string, waitMs: number): DroverError {
  return new DroverError('rate_limited', `Rate limit reached for ${what}. Retry after ${Math.ceil(waitMs / 1000)} s.`, {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}
