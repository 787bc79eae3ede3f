/**
 * The simulated engine's cost model and capacity (ARCHITECTURE §6). Defaults approximate one
 * mid-size model on one GPU; every field is a CLI flag of the mock worker.
 */
export interface EngineConfig {
  /** Prefill throughput for uncached prompt tokens. */
  prefillTokensPerSec: number;
  /** Largest prefill chunk per scheduler step (chunked prefill). */
  prefillChunkTokens: number;
  /** Decode step cost: base + per running request. */
  decodeBaseMs: number;
  decodePerRunningMs: number;
  /** Requests decoded together at most; the rest wait. */
  maxRunning: number;
  /** Prefix KV cache capacity in tokens, in blocks of `blockSize`, LRU-evicted. */
  kvCapacityTokens: number;
  blockSize: number;
  /** Chance that a generated token is EOS (after min_new_tokens), unless ignore_eos. */
  eosProbability: number;
  /** EOS token the engine emits. */
  eosTokenId: number;
  /** Echo mode: the output is the prompt's own token ids. */
  echo: boolean;
  /** KV event batches kept for SubscribeKvEvents replay. */
  kvEventHistory: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  prefillTokensPerSec: 8000,
  prefillChunkTokens: 2048,
  decodeBaseMs: 6.0,
  decodePerRunningMs: 0.35,
  maxRunning: 256,
  kvCapacityTokens: 524_288,
  blockSize: 16,
  eosProbability: 0.02,
  eosTokenId: 151645,
  echo: false,
  kvEventHistory: 4096,
};

/** Chaos knobs, settable at start (flags) or at run time (tests, mesh-sim). */
export interface EngineFaults {
  /** Fraction of requests failed at admission with `failStatus` (a gRPC status code). */
  failRate: number;
  failStatus: number;
  /** Stop emitting (hang) after this many output tokens; 0 = never. */
  stallAfterTokens: number;
  /** HealthCheck reports unhealthy. */
  unhealthy: boolean;
  /** Injected failures carry this `retry-after-ms` trailer (0 = none), like an overloaded engine. */
  retryAfterMs: number;
}

export const NO_FAULTS: EngineFaults = { failRate: 0, failStatus: 14, stallAfterTokens: 0, unhealthy: false, retryAfterMs: 0 };
