import type { WorkerProtocol } from '@drover/worker-proto';
import type { EngineConfig, EngineFaults } from '../engine-config';
import type { EngineLoads } from '../mock-engine';

/**
 * Which engine the mock imitates. 'mock' is the mock's first, friendly behaviour (every field
 * filled, replayable KV events, retry-after on failures), kept for the demo; 'sglang' and 'vllm'
 * reproduce what the published gRPC servicers of those engines observably do (docs/engine-personalities.md).
 */
export type EngineKind = 'mock' | 'sglang' | 'vllm';
export const ENGINE_KINDS: readonly EngineKind[] = ['mock', 'sglang', 'vllm'];

export interface PersonalityContext {
  model: string;
  /** --max-context-length: the model's context window (SGLang's max_req_input_len). */
  maxContextLength: number;
  vision: boolean;
  /** An embedding model (is_generation false): Embed only, Generate refused. */
  embedding: boolean;
  tokenizerPath: string;
  /** The served model's own vocabulary size and EOS ids (its tokenizer files). */
  vocabSize: number;
  eosTokenIds: number[];
  config: EngineConfig;
  loads: EngineLoads;
  runningCount: number;
  nowSeconds: number;
  uptimeSeconds: number;
}

export interface Personality {
  kind: EngineKind;
  protocol: WorkerProtocol;
  /** Engine settings that differ from the mock's (each still overridable by its flag). */
  engineDefaults: Partial<EngineConfig>;
  faultDefaults: Partial<EngineFaults>;
  /** Honours SubscribeKvEvents' start_sequence_number (real servers start from now). */
  replaysKvEvents: boolean;
  /** Default chance that a KV event batch is lost between engine and stream (a sequence gap). */
  kvGapRate: number;
  /** Failures carry a retry-after-ms trailer (no real servicer sends one). */
  sendsRetryAfter: boolean;
  /** How the engine reports a request it ended itself. */
  abortFinishReason: 'abort' | 'error';
  /** Prompts longer than the input limit are refused with INVALID_ARGUMENT. */
  refusesLongPrompts: boolean;
  /** HealthCheck runs a one-token generation through the scheduler (and waits for it). */
  healthRunsGeneration: boolean;
  /** Where the engine reads a seed from the wire sampling params (undefined: it never does). */
  seed(sp: any): number | undefined;
  modelInfo(c: PersonalityContext): Record<string, unknown>;
  serverInfo(c: PersonalityContext): Record<string, unknown>;
  loads(c: PersonalityContext): Record<string, unknown>;
}

/** SGLang's gRPC model info reports a fixed vocabulary size, not the model's. */
const SGLANG_VOCAB_PLACEHOLDER = 32000;

function fullModelInfo(c: PersonalityContext): Record<string, unknown> {
  return {
    model_path: c.model,
    tokenizer_path: c.tokenizerPath,
    is_generation: !c.embedding,
    served_model_name: c.model,
    max_context_length: c.maxContextLength,
    vocab_size: c.vocabSize,
    supports_vision: c.vision,
    model_type: c.vision ? 'qwen2_5_vl' : 'qwen3',
    eos_token_ids: c.eosTokenIds,
    pad_token_id: 151643,
    bos_token_id: 0,
    max_req_input_len: c.maxContextLength,
    architectures: [c.vision ? 'Qwen2_5_VLForConditionalGeneration' : 'Qwen3ForCausalLM'],
  };
}

function fullLoads(c: PersonalityContext): Record<string, unknown> {
  const l = c.loads;
  return {
    timestamp: new Date(c.nowSeconds * 1000).toISOString(),
    version: 'drover-mock',
    dp_rank_count: 1,
    loads: [
      {
        dp_rank: 0,
        num_running_reqs: l.numRunningReqs,
        num_waiting_reqs: l.numWaitingReqs,
        num_total_reqs: l.numRunningReqs + l.numWaitingReqs,
        num_used_tokens: l.numUsedTokens,
        max_total_num_tokens: l.maxTotalNumTokens,
        token_usage: l.tokenUsage,
        gen_throughput: l.genThroughput,
        cache_hit_rate: l.cacheHitRate,
        utilization: l.numRunningReqs / c.config.maxRunning,
        max_running_requests: c.config.maxRunning,
        num_waiting_uncached_tokens: l.waitingUncachedTokens,
      },
    ],
    aggregate: { total_running_reqs: l.numRunningReqs, total_waiting_reqs: l.numWaitingReqs, total_reqs: l.numRunningReqs + l.numWaitingReqs, avg_token_usage: l.tokenUsage },
  };
}

const MOCK: Omit<Personality, 'protocol'> = {
  kind: 'mock',
  engineDefaults: {},
  faultDefaults: {},
  replaysKvEvents: true,
  kvGapRate: 0,
  sendsRetryAfter: true,
  abortFinishReason: 'abort',
  refusesLongPrompts: false,
  healthRunsGeneration: false,
  seed: () => undefined, // set per protocol below
  modelInfo: fullModelInfo,
  serverInfo: () => ({}), // set per protocol below
  loads: fullLoads,
};

const SGLANG: Personality = {
  kind: 'sglang',
  protocol: 'sglang',
  // SGLang's KV events are per page; its default page size is 1. Its pool holds running requests too.
  engineDefaults: { blockSize: 1, sharedKvPool: true, duplicateIds: 'overwrite' },
  faultDefaults: { failStatus: 13 },
  replaysKvEvents: false,
  kvGapRate: 0.002,
  sendsRetryAfter: false,
  abortFinishReason: 'abort',
  refusesLongPrompts: true,
  healthRunsGeneration: true,
  // SGLang's sampling params have no seed and the servicer reads none from custom params.
  seed: () => undefined,
  // Scheduler info gives status, the KV pool size and the input limit; the rest stays at defaults.
  modelInfo: (c) => ({
    model_path: c.model,
    tokenizer_path: c.tokenizerPath,
    is_generation: !c.embedding,
    served_model_name: c.model,
    max_context_length: c.config.kvCapacityTokens,
    vocab_size: SGLANG_VOCAB_PLACEHOLDER,
    supports_vision: false,
    eos_token_ids: [],
    max_req_input_len: c.maxContextLength,
  }),
  serverInfo: (c) => ({
    server_args: { fields: { model_path: { stringValue: c.model }, context_length: { numberValue: c.maxContextLength }, page_size: { numberValue: c.config.blockSize }, dp_size: { numberValue: 1 } } },
    scheduler_info: { fields: { max_total_num_tokens: { numberValue: c.config.kvCapacityTokens }, max_req_input_len: { numberValue: c.maxContextLength } } },
    active_requests: c.runningCount,
    is_paused: false,
    last_receive_timestamp: c.nowSeconds,
    uptime_seconds: c.uptimeSeconds,
    sglang_version: '0.5.4',
    server_type: 'grpc',
    max_total_num_tokens: c.config.kvCapacityTokens,
  }),
  loads: fullLoads,
};

const VLLM: Personality = {
  kind: 'vllm',
  protocol: 'vllm',
  engineDefaults: { blockSize: 16, sharedKvPool: true, duplicateIds: 'refuse' },
  faultDefaults: { failStatus: 13 },
  replaysKvEvents: false,
  kvGapRate: 0.002,
  sendsRetryAfter: false,
  abortFinishReason: 'error',
  refusesLongPrompts: true,
  healthRunsGeneration: false,
  seed: (sp) => (typeof sp.seed === 'number' ? sp.seed : undefined),
  // vLLM fills model info from its model config: the window (max_model_len), vocabulary, EOS.
  modelInfo: (c) => ({ ...fullModelInfo(c), max_req_input_len: 0 }),
  serverInfo: (c) => ({ active_requests: c.runningCount, is_paused: false, last_receive_timestamp: c.nowSeconds, uptime_seconds: c.uptimeSeconds, server_type: 'vllm-grpc', data_parallel_size: 1 }),
  // vLLM's loads: request counts and token_usage only; every other field stays zero.
  loads: (c) => ({
    timestamp: new Date(c.nowSeconds * 1000).toISOString(),
    dp_rank_count: 1,
    loads: [{ dp_rank: 0, num_running_reqs: c.loads.numRunningReqs, num_waiting_reqs: c.loads.numWaitingReqs, num_total_reqs: c.loads.numRunningReqs + c.loads.numWaitingReqs, token_usage: c.loads.tokenUsage }],
  }),
};

/** The personality for `--engine` (and, for the mock, the contract it serves). */
export function personalityFor(kind: EngineKind, protocol: WorkerProtocol): Personality {
  if (kind === 'sglang') return SGLANG;
  if (kind === 'vllm') return VLLM;
  return {
    ...MOCK,
    protocol,
    // The seed lives only in vLLM's contract (SGLang's sampling params have no seed field).
    seed: (sp) => (protocol === 'vllm' && typeof sp.seed === 'number' ? sp.seed : undefined),
    serverInfo: (c) =>
      protocol === 'vllm'
        ? { active_requests: c.runningCount, is_paused: false, last_receive_timestamp: c.nowSeconds, uptime_seconds: c.uptimeSeconds, server_type: 'vllm-grpc', data_parallel_size: 1 }
        : { active_requests: c.runningCount, is_paused: false, last_receive_timestamp: c.nowSeconds, uptime_seconds: c.uptimeSeconds, sglang_version: 'drover-mock', server_type: 'grpc', max_total_num_tokens: c.config.kvCapacityTokens },
  };
}
