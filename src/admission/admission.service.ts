import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DroverError, type Clock, type Timers } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import type { InferenceRequest, Usage } from '../inference/inference-types';
import { CLOCK, CONFIG, TIMERS } from '../runtime/tokens';
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

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TIMERS) timers: Timers,
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

  /** Spend reported by another mesh node: charged without a check. */
  applyRemoteSpend(s: Spend): void {
    const now = this.clock.now();
    if (this.config.rateLimitRpm > 0 && s.requests > 0) this.bucket(this.requestBuckets, s.key, this.config.rateLimitRpm).charge(s.requests, now);
    if (this.config.rateLimitTpm > 0 && s.tokens > 0) this.bucket(this.tokenBuckets, s.key, this.config.rateLimitTpm).charge(s.tokens, now);
  }

  /** Admits a request or throws 429/408. Returns the release to call when it ends. */
  async admit(req: InferenceRequest): Promise<(usage?: Usage) => void> {
    return this.admitRequest(req.headers, req.promptIds.length, req.signal);
  }

  /** The same admission for a request the gateway did not tokenize (HTTP proxying estimates its prompt tokens). */
  async admitRequest(headers: InferenceRequest['headers'], promptTokens: number, signal: AbortSignal): Promise<(usage?: Usage) => void> {
    const key = apiKeyOf(headers);
    this.checkRateLimits(key, promptTokens);
    const release = await this.queue.acquire(signal);
    return (usage?: Usage) => {
      release();
      if (usage && this.config.rateLimitTpm > 0) {
        this.bucket(this.tokenBuckets, key, this.config.rateLimitTpm).charge(usage.completionTokens, this.clock.now());
        this.publish({ key, requests: 0, tokens: usage.completionTokens });
      }
    };
  }

  /** Checks every limit before spending any, so a request refused on one limit spends nothing on the other. */
  private checkRateLimits(key: string, promptTokens: number): void {
    const now = this.clock.now();
    const requests = this.config.rateLimitRpm > 0 ? this.bucket(this.requestBuckets, key, this.config.rateLimitRpm) : undefined;
    const tokens = this.config.rateLimitTpm > 0 ? this.bucket(this.tokenBuckets, key, this.config.rateLimitTpm) : undefined;
    const requestWait = requests?.waitFor(1, now) ?? 0;
    if (requestWait > 0) throw rateLimited(`requests per minute (${this.config.rateLimitRpm})`, requestWait);
    if (tokens && promptTokens > tokens.capacity) {
      // Waiting never helps a prompt larger than the whole budget: no Retry-After.
      throw new DroverError('rate_limited', `Request too large: its prompt of ${promptTokens} tokens exceeds the limit of ${this.config.rateLimitTpm} tokens per minute. Reduce the prompt.`);
    }
    const tokenWait = tokens?.waitFor(promptTokens, now) ?? 0;
    if (tokenWait > 0) throw rateLimited(`tokens per minute (${this.config.rateLimitTpm})`, tokenWait);
    requests?.take(1, now);
    tokens?.take(promptTokens, now);
    this.publish({ key, requests: 1, tokens: this.config.rateLimitTpm > 0 ? promptTokens : 0 });
  }

  private publish(s: Spend): void {
    if (this.config.rateLimitRpm === 0 && this.config.rateLimitTpm === 0) return;
    for (const l of this.spendListeners) l(s);
  }

  private bucket(map: Map<string, TokenBucket>, key: string, perMinute: number): TokenBucket {
    let b = map.get(key);
    if (!b) {
      if (map.size >= MAX_TRACKED_KEYS) map.delete(map.keys().next().value as string);
      b = new TokenBucket(perMinute, perMinute, this.clock.now());
      map.set(key, b);
    }
    return b;
  }
}

/** Rate limits are per API key; keys are hashed so secrets never sit in memory maps or logs. */
export function apiKeyOf(headers: Record<string, string | string[] | undefined>): string {
  const auth = headers.authorization;
  const raw = typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : (headers['x-api-key'] as string | undefined);
  if (!raw) return 'anonymous';
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

function rateLimited(what: string, waitMs: number): DroverError {
  return new DroverError('rate_limited', `Rate limit reached for ${what}. Retry after ${Math.ceil(waitMs / 1000)} s.`, {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}
