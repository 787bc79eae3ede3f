import type { AdmissionTicket } from '../admission/admission.service';
import type { Context } from '@opentelemetry/api';
import type { Tokenizer } from '@drover/tokenizer';
import type { MultimodalInput, SamplingOptions } from '@drover/worker-proto';

export type FinishReason = 'stop' | 'length' | 'abort';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** A request after validation and tokenization, independent of the client API it came from. */
export interface InferenceRequest {
  /** The gateway's random id: the engine request id and the name in logs. */
  requestId: string;
  /** The client's x-request-id, a correlation label for logs only (never sent to an engine). */
  clientRequestId?: string;
  model: string;
  /** The model's tokenizer (the controller resolved it to encode the prompt); decodes the output. */
  tokenizer?: Tokenizer;
  promptIds: number[];
  /**
   * The ids cache-aware routing sees when they differ from promptIds: a prompt's image
   * placeholders replaced by ids derived from each image's content (see @drover/multimodal).
   */
  routeIds?: number[];
  /** Preprocessed images for a vision model; their placeholders are already in promptIds. */
  multimodal?: MultimodalInput;
  promptText: string;
  maxTokens: number | undefined;
  sampling: Omit<SamplingOptions, 'maxNewTokens' | 'stop'>;
  stop: string[];
  skipSpecialTokens: boolean;
  headers: Record<string, string | string[] | undefined>;
  user?: string;
  /** Aborted when the client goes away: the worker request is then aborted too. */
  signal: AbortSignal;
  /** Request id (and pass-through headers) for the worker's gRPC metadata. */
  metadata: Record<string, string>;
  /** The request span's context: inference spans are its children. */
  trace: Context;
  /** Output log-probabilities wanted, with this many top alternatives per token. */
  logprobs?: { topN: number };
  /**
   * The client sees nothing until the end (non-streaming): a failure even after output started can
   * be retried from scratch on another worker (the consumer gets a `reset` event first).
   */
  buffered?: boolean;
  /** Admitted before tokenizing (InferenceService.admitEarly); else generate admits it. */
  admission?: AdmissionTicket;
}

/** One generated token's log-probability, and its most likely alternatives when asked. */
export interface TokenLogprob {
  id: number;
  logprob: number;
  top: { id: number; logprob: number }[];
}

export type InferenceEvent =
  /** `logprobs`: the tokens whose text this event completes (when the request asked for them). */
  | { type: 'text'; text: string; logprobs?: TokenLogprob[] }
  | { type: 'reset' }
  | { type: 'end'; finishReason: FinishReason; usage: Usage; workerId: string; matchedStop?: string | number; /** Disaggregated: the pair's prefill worker (workerId is its decode worker). */ prefillWorkerId?: string };
