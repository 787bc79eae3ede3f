import { describe, expect, it } from 'vitest';
import { parseEverySplit } from '../testing/run-split';
import { promptOpensReasoning } from '.';

describe('<think> reasoning', () => {
  it.each([
    { title: 'qwen3 with the opening tag', kind: 'qwen3', start: undefined, text: '<think>\nhmm\n</think>\n\nThe answer.', reasoning: '\nhmm\n', content: 'The answer.' },
    { title: 'qwen3, template opened the tag', kind: 'qwen3', start: true, text: 'hmm</think>\n\nThe answer.', reasoning: 'hmm', content: 'The answer.' },
    { title: 'qwen3, template opened it and the model repeats it', kind: 'qwen3', start: true, text: '<think>hmm</think>ok', reasoning: 'hmm', content: 'ok' },
    { title: 'qwen3 without reasoning', kind: 'qwen3', start: undefined, text: 'Just <think> an answer </think>.', reasoning: '', content: 'Just <think> an answer </think>.' },
    { title: 'deepseek r1 starts inside', kind: 'deepseek_r1', start: undefined, text: 'Let me see. 2+2</think>4', reasoning: 'Let me see. 2+2', content: '4' },
    { title: 'r1 cut off inside reasoning', kind: 'deepseek_r1', start: undefined, text: 'still thinking </thi', reasoning: 'still thinking </thi', content: '' },
    { title: 'magistral', kind: 'magistral', start: undefined, text: '[THINK]a[b][/THINK]\nanswer', reasoning: 'a[b]', content: 'answer' },
    { title: 'empty reasoning', kind: 'qwen3', start: undefined, text: '<think>\n\n</think>\n\nhi', reasoning: '\n\n', content: 'hi' },
  ] as const)('$title', ({ kind, start, text, reasoning, content }) => {
    const r = parseEverySplit({ reasoning: kind, thinking: { startInReasoning: start } }, text);
    expect(r.reasoning).toBe(reasoning);
    expect(r.content).toBe(content);
  });

  it('reasoning disabled: everything is content', () => {
    const r = parseEverySplit({ reasoning: 'deepseek_r1', thinking: { enabled: false } }, '<think>a</think>b');
    expect(r).toMatchObject({ reasoning: '', content: '<think>a</think>b' });
  });

  it('tool calls inside reasoning stay reasoning; after it they are calls', () => {
    const text = '<think>maybe <tool_call>{"name": "f", "arguments": {}}</tool_call></think><tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>';
    const r = parseEverySplit({ reasoning: 'qwen3', toolParser: 'hermes', tools: [{ function: { name: 'f' } }] }, text);
    expect(r.reasoning).toBe('maybe <tool_call>{"name": "f", "arguments": {}}</tool_call>');
    expect(r.calls).toEqual([{ name: 'f', arguments: { x: 1 } }]);
  });

  it('promptOpensReasoning reads the rendered prompt', () => {
    expect(promptOpensReasoning('qwen3', '<|im_start|>assistant\n<think>\n')).toBe(true);
    expect(promptOpensReasoning('qwen3', '<|im_start|>assistant\n')).toBe(false);
    expect(promptOpensReasoning('magistral', '[THINK]')).toBe(true);
    expect(promptOpensReasoning(null, '<think>\n')).toBe(false);
  });
});
