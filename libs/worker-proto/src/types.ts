/** The gateway's contract-neutral view of an engine (SGLang and vLLM map onto it). */
export type WorkerProtocol = 'sglang' | 'vllm';

export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
  minNewTokens?: number;
  stop?: string[];
  stopTokenIds?: number[];
  skipSpecialTokens?: boolean;
  ignoreEos?: boolean;
  n?: number;
  seed?: number;
  /** Structured output: at most one of these (the engines' `constraint` oneof). */
  jsonSchema?: string;
  regex?: string;
  /** EBNF grammar: SGLang's ebnf_grammar, vLLM's grammar. */
  ebnf?: string;
  structuralTag?: string;
}

/** Log-probabilities of the generated tokens, and the `topN` most likely at each position. */
export interface OutputLogprobs {
  tokenLogprobs: number[];
  tokenIds: number[];
  /** Per position when top logprobs were asked: values and token ids, most likely first. */
  top: { values: number[]; tokenIds: number[] }[];
}

export interface GenerateParams {
  requestId: string;
  inputIds: number[];
  originalText?: string;
  sampling: SamplingOptions;
  stream: boolean;
  /** Images, preprocessed by the gateway (placeholder tokens already expanded in inputIds). */
  multimodal?: MultimodalInput;
  /** Ask for output log-probabilities (with this many top alternatives per token; 0: none). */
  logprobs?: { topN: number };
  /**
   * SGLang prefill/decode disaggregation: both sides of a pair get the same request with the
   * prefill's bootstrap server and a room number; the decode side fetches the prompt's KV there.
   */
  disaggregation?: { bootstrapHost: string; bootstrapPort: number; bootstrapRoom: number };
  /**
   * vLLM prefill/decode disaggregation: the connector's parameters as JSON, sent verbatim (to the
   * prefill: a remote-decode request; to the decode: what the prefill returned).
   */
  kvTransferParamsJson?: string;
}

/** A tensor as the engines take it: little-endian bytes, a shape and a numpy-style dtype name. */
export interface TensorData {
  data: Uint8Array;
  shape: number[];
  dtype: 'float32' | 'float16' | 'int32' | 'int64' | 'uint8';
}

export interface MultimodalInput {
  pixelValues: TensorData;
  /** Extra per-model tensors, e.g. Qwen2-VL's image_grid_thw. */
  tensors: Record<string, TensorData>;
  /** The placeholder token id the images occupy in inputIds. */
  imTokenId: number;
  placeholders: { offset: number; length: number }[];
  /** Content hashes, one per image (engines key their multimodal caches on them). */
  hashes: string[];
}

export type GenerateEvent =
  | { type: 'chunk'; tokenIds: number[]; promptTokens: number; completionTokens: number; cachedTokens: number; index: number; logprobs?: OutputLogprobs }
  | {
      type: 'complete';
      outputIds: number[];
      finishReason: string;
      promptTokens: number;
      completionTokens: number;
      cachedTokens: number;
      matchedTokenId?: number;
      matchedStopStr?: string;
      index: number;
      /** Cumulative (engines fill it for non-streaming requests). */
      logprobs?: OutputLogprobs;
      /** vLLM prefill of a remote-decode request: the parameters the decode side needs (JSON). */
      kvTransferParamsJson?: string;
    };

export interface ModelInfo {
  servedModelName: string;
  modelPath: string;
  tokenizerPath: string;
  maxContextLength: number;
  vocabSize: number;
  eosTokenIds: number[];
  isGeneration: boolean;
  supportsVision: boolean;
}

export interface WorkerLoad {
  numRunningReqs: number;
  numWaitingReqs: number;
  numUsedTokens: number;
  maxTotalNumTokens: number;
  tokenUsage: number;
  waitingUncachedTokens: number;
  cacheHitRate: number;
}

/** int64 block hashes travel as decimal strings (JavaScript numbers lose int64 precision). */
export interface KvBlock {
  blockHash: string;
  tokenIds: number[];
  blockSize: number;
  /** Set for blocks cached under a LoRA adapter (int64 as a decimal string). */
  loraId?: string;
}

export type KvEvent =
  | { kind: 'stored'; eventId: number; blocks: KvBlock[]; parentBlockHash?: string }
  | { kind: 'removed'; eventId: number; blockHashes: string[] }
  | { kind: 'cleared'; eventId: number };

export interface KvEventBatch {
  sequenceNumber: number;
  timestamp: number;
  events: KvEvent[];
  /** The data-parallel rank whose cache this batch describes (engines with several ranks). */
  dpRank?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Relative deadline in milliseconds for the whole call (stream included). */
  deadlineMs?: number;
  /** gRPC metadata, e.g. W3C traceparent/tracestate and x-request-id. */
  metadata?: Record<string, string>;
}
