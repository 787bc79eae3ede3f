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
  /**
   * One KV pool for cached prefixes and running requests, as real engines have: a running
   * request's uncached prompt and its output take room, cached prefixes are evicted to make it,
   * and requests wait when the pool is full. Off, running requests take no room (the flattering
   * model the mock had first; the default mock keeps it for the demo).
   */
  sharedKvPool: boolean;
  /**
   * A request id already running: 'refuse' fails the new request (vLLM); 'overwrite' silently
   * replaces the first request's state, which then never hears back (SGLang).
   */
  duplicateIds: 'refuse' | 'overwrite';
  /** Salt of the engine's block hashes (vLLM salts per process): opaque to any gateway. */
  kvHashSalt: string;
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
  sharedKvPool: false,
  duplicateIds: 'refuse',
  kvHashSalt: '',
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
  /**
   * Fraction of requests the engine ends on its own (a scheduler timeout, a retraction) with
   * finish reason 'abort', after 0-2 output tokens.
   */
  engineAbortRate: number;
  /**
   * Disaggregated engines: every request fails (with `failStatus`) after the prefill or the KV
   * transfer, before its first token reaches the gateway.
   */
  failBeforeFirstToken: boolean;
  /**
   * Disaggregated engines: the KV transfer never completes ('hang') or fails ('fail'). On a
   * prefill engine it is the sender's fault, on a decode engine the receiver's.
   */
  kvTransferFault: 'none' | 'hang' | 'fail';
  /** The next this-many GetTokenizer calls fail with UNAVAILABLE (an engine still starting). */
  tokenizerUnavailable: number;
}

export const NO_FAULTS: EngineFaults = { failRate: 0, failStatus: 14, stallAfterTokens: 0, unhealthy: false, retryAfterMs: 0, engineAbortRate: 0, failBeforeFirstToken: false, kvTransferFault: 'none', tokenizerUnavailable: 0 };
