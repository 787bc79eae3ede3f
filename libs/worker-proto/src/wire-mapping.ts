import type { GenerateEvent, GenerateParams, KvEvent, KvEventBatch, ModelInfo, MultimodalInput, OutputLogprobs, SamplingOptions, TensorData, WorkerLoad, WorkerProtocol } from './types';

/**
 * Builds the wire GenerateRequest for each contract. proto3 zero values are not the semantic
 * defaults, so every field a client may omit is filled with the engine's real default.
 */
export function toGenerateRequest(protocol: WorkerProtocol, p: GenerateParams): Record<string, unknown> {
  const s = p.sampling;
  const tokenized = { original_text: p.originalText ?? '', input_ids: p.inputIds };
  if (protocol === 'sglang') {
    const req: Record<string, unknown> = {
      request_id: p.requestId,
      tokenized,
      sampling_params: sglangSampling(s),
      stream: p.stream,
      logprob_start_len: -1,
    };
    if (p.logprobs) {
      req.return_logprob = true;
      req.top_logprobs_num = p.logprobs.topN;
    }
    if (p.multimodal) req.mm_inputs = sglangMultimodal(p.multimodal);
    if (p.disaggregation) {
      const d = p.disaggregation;
      req.disaggregated_params = { bootstrap_host: d.bootstrapHost, bootstrap_port: d.bootstrapPort, bootstrap_room: d.bootstrapRoom };
    }
    return req;
  }
  const sampling = vllmSampling(s);
  // vLLM: logprobs = how many top alternatives (0: only the sampled token's).
  if (p.logprobs) sampling.logprobs = p.logprobs.topN;
  const req: Record<string, unknown> = { request_id: p.requestId, tokenized, sampling_params: sampling, stream: p.stream };
  if (p.multimodal) req.mm_inputs = vllmMultimodal(p.multimodal);
  if (p.kvTransferParamsJson !== undefined) req.kv_transfer_params_json = p.kvTransferParamsJson;
  return req;
}

function sglangMultimodal(m: MultimodalInput): Record<string, unknown> {
  const tensor = (t: TensorData) => ({ data: t.data, shape: t.shape, dtype: t.dtype });
  return {
    pixel_values: tensor(m.pixelValues),
    model_specific_tensors: Object.fromEntries(Object.entries(m.tensors).map(([k, t]) => [k, tensor(t)])),
    im_token_id: m.imTokenId,
    mm_placeholders: m.placeholders,
    modalities: m.placeholders.map(() => 'image'),
  };
}

function vllmMultimodal(m: MultimodalInput): Record<string, unknown> {
  const tensor = (t: TensorData) => ({ inline: t.data, shape: t.shape, dtype: t.dtype });
  return {
    pixel_values: tensor(m.pixelValues),
    model_specific_tensors: Object.fromEntries(Object.entries(m.tensors).map(([k, t]) => [k, tensor(t)])),
    im_token_id: m.imTokenId,
    mm_placeholders: m.placeholders,
    mm_hashes: m.hashes,
    modality: 'IMAGE',
    ...vllmLayoutHints(m),
  };
}

/**
 * How vLLM splits the tensors per image: per-image tensors (Qwen2-VL's image_grid_thw) are
 * batched along their first axis; pixel_values is flat (every image's patches concatenated) and
 * split by the sizes its grid gives (t·h·w patches per image).
 */
export function vllmLayoutHints(m: MultimodalInput): { batched_keys: string[]; flat_keys: Record<string, string> } {
  const batched = Object.keys(m.tensors);
  const sizes = batched.includes('image_grid_thw') ? 'image_grid_thw' : batched[0];
  return { batched_keys: batched, flat_keys: sizes ? { pixel_values: sizes } : {} };
}

function sglangSampling(s: SamplingOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    temperature: s.temperature ?? 1.0,
    top_p: s.topP ?? 1.0,
    top_k: s.topK ?? -1,
    min_p: s.minP ?? 0,
    frequency_penalty: s.frequencyPenalty ?? 0,
    presence_penalty: s.presencePenalty ?? 0,
    repetition_penalty: s.repetitionPenalty ?? 1.0,
    stop: s.stop ?? [],
    stop_token_ids: s.stopTokenIds ?? [],
    skip_special_tokens: s.skipSpecialTokens ?? true,
    spaces_between_special_tokens: true,
    n: s.n ?? 1,
    min_new_tokens: s.minNewTokens ?? 0,
    ignore_eos: s.ignoreEos ?? false,
  };
  if (s.maxNewTokens !== undefined) out.max_new_tokens = s.maxNewTokens;
  if (s.jsonSchema !== undefined) out.json_schema = s.jsonSchema;
  else if (s.regex !== undefined) out.regex = s.regex;
  else if (s.ebnf !== undefined) out.ebnf_grammar = s.ebnf;
  else if (s.structuralTag !== undefined) out.structural_tag = s.structuralTag;
  // No seed: SGLang's gRPC SamplingParams has no seed field and its servicer reads none from
  // custom_params, so the gateway refuses seeded requests for SGLang-served models instead.
  return out;
}

function vllmSampling(s: SamplingOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    temperature: s.temperature ?? 1.0,
    top_p: s.topP ?? 1.0,
    top_k: s.topK === undefined || s.topK < 0 ? 0 : s.topK, // vLLM: 0 disables top-k
    min_p: s.minP ?? 0,
    frequency_penalty: s.frequencyPenalty ?? 0,
    presence_penalty: s.presencePenalty ?? 0,
    repetition_penalty: s.repetitionPenalty ?? 1.0,
    min_tokens: s.minNewTokens ?? 0,
    stop: s.stop ?? [],
    stop_token_ids: s.stopTokenIds ?? [],
    skip_special_tokens: s.skipSpecialTokens ?? true,
    spaces_between_special_tokens: true,
    ignore_eos: s.ignoreEos ?? false,
    n: s.n ?? 1,
  };
  if (s.maxNewTokens !== undefined) out.max_tokens = s.maxNewTokens;
  if (s.seed !== undefined) out.seed = s.seed;
  if (s.jsonSchema !== undefined) out.json_schema = s.jsonSchema;
  else if (s.regex !== undefined) out.regex = s.regex;
  else if (s.ebnf !== undefined) out.grammar = s.ebnf;
  else if (s.structuralTag !== undefined) out.structural_tag = s.structuralTag;
  return out;
}

/** Wire GenerateResponse (either contract) → event; undefined for an empty message. */
export function fromGenerateResponse(msg: any): GenerateEvent | undefined {
  if (msg.chunk) {
    const c = msg.chunk;
    const ev: GenerateEvent = { type: 'chunk', tokenIds: c.token_ids ?? [], promptTokens: c.prompt_tokens ?? 0, completionTokens: c.completion_tokens ?? 0, cachedTokens: c.cached_tokens ?? 0, index: c.index ?? 0 };
    if (c.output_logprobs) ev.logprobs = fromLogprobs(c.output_logprobs);
    return ev;
  }
  if (msg.complete) {
    const c = msg.complete;
    const ev: GenerateEvent = {
      type: 'complete',
      outputIds: c.output_ids ?? [],
      finishReason: c.finish_reason || 'stop',
      promptTokens: c.prompt_tokens ?? 0,
      completionTokens: c.completion_tokens ?? 0,
      cachedTokens: c.cached_tokens ?? 0,
      index: c.index ?? 0,
    };
    if (c.matched_stop === 'matched_token_id') ev.matchedTokenId = c.matched_token_id;
    if (c.matched_stop === 'matched_stop_str') ev.matchedStopStr = c.matched_stop_str;
    if (c.output_logprobs && (c.output_logprobs.token_ids ?? []).length > 0) ev.logprobs = fromLogprobs(c.output_logprobs);
    if (typeof c.kv_transfer_params_json === 'string' && c.kv_transfer_params_json !== '') ev.kvTransferParamsJson = c.kv_transfer_params_json;
    return ev;
  }
  return undefined;
}

function fromLogprobs(l: any): OutputLogprobs {
  return {
    tokenLogprobs: l.token_logprobs ?? [],
    tokenIds: l.token_ids ?? [],
    top: (l.top_logprobs ?? []).map((t: any) => ({ values: t.values ?? [], tokenIds: t.token_ids ?? [] })),
  };
}

export function fromModelInfo(m: any): ModelInfo {
  return {
    servedModelName: m.served_model_name || m.model_path || 'unknown',
    modelPath: m.model_path ?? '',
    tokenizerPath: m.tokenizer_path ?? '',
    // SGLang's max_context_length is its KV pool size; its real input limit is max_req_input_len.
    maxContextLength: Number(m.max_req_input_len ?? 0) > 0 ? Number(m.max_req_input_len) : Number(m.max_context_length ?? 0),
    vocabSize: Number(m.vocab_size ?? 0),
    eosTokenIds: (m.eos_token_ids ?? []).map(Number),
    isGeneration: m.is_generation ?? true,
    supportsVision: m.supports_vision ?? false,
  };
}

export function fromLoads(r: any): WorkerLoad {
  const loads: any[] = r.loads ?? [];
  const sum = (f: string) => loads.reduce((a, l) => a + Number(l[f] ?? 0), 0);
  const used = sum('num_used_tokens');
  const max = sum('max_total_num_tokens');
  return {
    numRunningReqs: sum('num_running_reqs'),
    numWaitingReqs: sum('num_waiting_reqs'),
    numUsedTokens: used,
    maxTotalNumTokens: max,
    // vLLM leaves the token counts at zero and reports only token_usage (mean over ranks).
    tokenUsage: max > 0 ? used / max : loads.length > 0 ? sum('token_usage') / loads.length : 0,
    waitingUncachedTokens: sum('num_waiting_uncached_tokens'),
    cacheHitRate: loads.length > 0 ? sum('cache_hit_rate') / loads.length : 0,
  };
}

export function fromKvBatch(b: any): KvEventBatch {
  const events: KvEvent[] = [];
  for (const e of b.events ?? []) {
    const eventId = Number(e.event_id ?? 0);
    if (e.data === 'stored' && e.stored) {
      events.push({
        kind: 'stored',
        eventId,
        parentBlockHash: e.stored.parent_block_hash ?? undefined,
        blocks: (e.stored.blocks ?? []).map((k: any) => ({ blockHash: String(k.block_hash), tokenIds: k.token_ids ?? [], blockSize: k.block_size ?? 0, ...(k.lora_id !== undefined && k.lora_id !== null ? { loraId: String(k.lora_id) } : {}) })),
      });
    } else if (e.data === 'removed' && e.removed) {
      events.push({ kind: 'removed', eventId, blockHashes: (e.removed.block_hashes ?? []).map(String) });
    } else if (e.data === 'cleared') {
      events.push({ kind: 'cleared', eventId });
    }
  }
  const out: KvEventBatch = { sequenceNumber: Number(b.sequence_number ?? 0), timestamp: Number(b.timestamp ?? 0), events };
  if (b.dp_rank !== undefined && b.dp_rank !== null) out.dpRank = Number(b.dp_rank);
  return out;
}
