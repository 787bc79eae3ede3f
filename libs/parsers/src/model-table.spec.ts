import { describe, expect, it } from 'vitest';
import { parserForModel } from './model-table';

describe('parserForModel', () => {
  it.each([
    ['Qwen/Qwen3-8B', 'qwen3', 'hermes'],
    ['qwen2.5-7b-instruct', 'qwen3', 'hermes'],
    ['Qwen/QwQ-32B', 'deepseek_r1', 'hermes'],
    ['deepseek-ai/DeepSeek-R1-0528', 'deepseek_r1', 'deepseek_v3'],
    ['deepseek-ai/DeepSeek-V3-0324', null, 'deepseek_v3'],
    ['meta-llama/Llama-3.1-8B-Instruct', null, 'llama3_json'],
    ['meta-llama/Llama-3.3-70B-Instruct', null, 'llama3_json'],
    ['meta-llama/Llama-4-Scout-17B-16E-Instruct', null, 'pythonic'],
    ['mistralai/Mistral-Small-3.2-24B-Instruct', null, 'mistral'],
    ['mistralai/Mixtral-8x7B-Instruct-v0.1', null, 'mistral'],
    ['mistralai/Magistral-Small-2509', 'magistral', 'mistral'],
    ['openai/gpt-oss-20b', 'harmony', 'harmony'],
    ['moonshotai/Kimi-K2-Instruct', 'think', 'kimi_k2'],
    ['some-unknown-model', null, null],
  ])('%s → %s / %s', (name, reasoning, toolParser) => {
    expect(parserForModel(name)).toEqual({ reasoning, toolParser });
  });

  it('an explicit override wins, and "none" turns a parser off', () => {
    expect(parserForModel('Qwen/Qwen3-8B', { toolParser: 'llama3_json', reasoning: 'none' })).toEqual({ reasoning: null, toolParser: 'llama3_json' });
    expect(parserForModel('my-finetune', { toolParser: 'hermes' })).toEqual({ reasoning: null, toolParser: 'hermes' });
  });
});
