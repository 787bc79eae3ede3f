import { describe, expect, it } from 'vitest';
import { fromGenerateResponse, fromLoads, fromModelInfo, toGenerateRequest } from './wire-mapping';
import type { MultimodalInput } from './types';

const tensor = (shape: number[]) => ({ data: new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)), shape, dtype: 'float32' as const });

describe('wire mapping for real engines', () => {
  it("reads SGLang's input limit from max_req_input_len (its max_context_length is the KV pool), else max_context_length", () => {
    expect(fromModelInfo({ max_context_length: 500_000, max_req_input_len: 8192 }).maxContextLength).toBe(8192);
    expect(fromModelInfo({ max_context_length: 32_768, max_req_input_len: 0 }).maxContextLength).toBe(32_768);
  });

  it("reads vLLM's token_usage when it leaves the token counts at zero", () => {
    const l = fromLoads({ loads: [{ num_running_reqs: 3, num_waiting_reqs: 1, num_total_reqs: 4, token_usage: 0.4 }] });
    expect(l).toMatchObject({ numRunningReqs: 3, numWaitingReqs: 1, tokenUsage: 0.4 });
  });

  it("puts the seed in vLLM's sampling_params.seed and nowhere in SGLang's request (its contract has no seed)", () => {
    const opts = { requestId: 'r', inputIds: [1], sampling: { seed: 42 }, stream: true };
    expect((toGenerateRequest('vllm', opts) as { sampling_params: Record<string, unknown> }).sampling_params.seed).toBe(42);
    const sglang = toGenerateRequest('sglang', opts) as { sampling_params: Record<string, unknown> };
    expect(JSON.stringify(sglang)).not.toContain('42');
    expect(sglang.sampling_params.custom_params).toBeUndefined();
  });

  it('gives vLLM image requests their layout hints: pixel_values flat by image_grid_thw, the grid batched', () => {
    const m: MultimodalInput = { pixelValues: tensor([8, 4]), tensors: { image_grid_thw: { data: new Uint8Array(24), shape: [1, 3], dtype: 'int64' } }, imTokenId: 7, placeholders: [{ offset: 1, length: 2 }], hashes: ['h'] };
    const req = toGenerateRequest('vllm', { requestId: 'r', inputIds: [1, 7, 7], sampling: {}, stream: true, multimodal: m }) as { mm_inputs: Record<string, unknown> };
    expect(req.mm_inputs.batched_keys).toEqual(['image_grid_thw']);
    expect(req.mm_inputs.flat_keys).toEqual({ pixel_values: 'image_grid_thw' });
  });

  it('sends the PD parameters where each contract has them, and reads back vLLM\'s kv_transfer_params_json', () => {
    const base = { requestId: 'r', inputIds: [1], sampling: {}, stream: true };
    const sglang = toGenerateRequest('sglang', { ...base, disaggregation: { bootstrapHost: 'p', bootstrapPort: 8998, bootstrapRoom: 5 } });
    expect(sglang.disaggregated_params).toEqual({ bootstrap_host: 'p', bootstrap_port: 8998, bootstrap_room: 5 });
    expect(toGenerateRequest('vllm', { ...base, kvTransferParamsJson: '{"do_remote_decode":true}' }).kv_transfer_params_json).toBe('{"do_remote_decode":true}');
    expect(toGenerateRequest('sglang', base).disaggregated_params).toBeUndefined();
    const complete = fromGenerateResponse({ complete: { finish_reason: 'length', kv_transfer_params_json: '{"remote_host":"h"}' } });
    expect(complete).toMatchObject({ type: 'complete', kvTransferParamsJson: '{"remote_host":"h"}' });
    expect(fromGenerateResponse({ complete: { finish_reason: 'stop', kv_transfer_params_json: '' } })).not.toHaveProperty('kvTransferParamsJson');
  });
});
