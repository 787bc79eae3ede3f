/** Malformed and cut-off output per format: nothing crashes, calls close with valid JSON. */
import fc from 'fast-check';
import { SeededRng } from '@drover/runtime';
import { describe, expect, it } from 'vitest';
import { createOutputParser } from '../output-parser';
import { everySplit, fold, parseEverySplit, shape } from '../testing/run-split';
import type { ToolDefinition, ToolParserKind } from '../types';

const tools: ToolDefinition[] = [{ function: { name: 'f' } }, { function: { name: 'g' } }];

describe('malformed tool calls', () => {
  it.each([
    ['hermes', '<tool_call>{"name": "f", "arguments": {"a": [1, 2}</tool_call>tail', [{ name: 'f', arguments: { a: [1, 2] } }], 'tail'],
    ['llama3_json', '{"name": "f", "parameters": {"a": "b"]}', [{ name: 'f', arguments: { a: 'b' } }], ']}'],
    ['mistral', '[TOOL_CALLS][{"name": "f", "arguments": {"x": 1}}, {"name": "g", "arguments": {"y": ]}]', [{ name: 'f', arguments: { x: 1 } }, { name: 'g', arguments: { y: null } }], ']}]'],
    ['mistral', '[TOOL_CALLS]f[ARGS]{"x": tru', [{ name: 'f', arguments: { x: null } }], ''],
    ['deepseek_v3', '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{"x": 1, "y": "a\tb"}\n```<｜tool▁call▁end｜>', [{ name: 'f', arguments: { x: 1, y: 'a' } }], ''],
    ['kimi_k2', '<|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{"x": {"y": 1}<|tool_call_end|>', [{ name: 'f', arguments: { x: { y: 1 } } }], ''],
    ['pythonic', '[f(a=1), g(b=open("x"))]', [{ name: 'f', arguments: { a: 1 } }, { name: 'g', arguments: {} }], ')]'],
  ] as Array<[ToolParserKind, string, unknown[], string]>)('%s: %s', (kind, text, calls, content) => {
    const r = parseEverySplit({ toolParser: kind, tools, reasoning: null }, text);
    expect(r.calls).toEqual(calls);
    expect(r.malformed).toBeGreaterThan(0);
    expect(r.content).toBe(content);
  });

  it.each(['hermes', 'llama3_json', 'mistral', 'deepseek_v3', 'pythonic', 'harmony', 'kimi_k2'] as ToolParserKind[])(
    '%s: fuzzed fragments of every format give valid arguments and the same result for every split',
    (kind) => {
      const pieces = ['<tool_call>', '</tool_call>', '{"name": "f", ', '"arguments": ', '"parameters": ', '{"x": ', '[1, ', '"s\\"', "'a'", 'True', '}', ']', ';', ',', ' ', '\n', '[TOOL_CALLS]', '[ARGS]', 'f(', 'a=1', ')', '<｜tool▁call▁begin｜>', '<｜tool▁sep｜>', 'function', '<｜tool▁call▁end｜>', '<|tool_call_begin|>', 'functions.f:0', '<|tool_call_argument_begin|>', '<|tool_call_end|>', '<|channel|>', '<|start|>', 'commentary to=functions.f', 'analysis', 'final', '<|message|>', '<|call|>', '<|end|>', '<think>', '</think>', 'text', '```json'];
      const opts = { toolParser: kind, tools, reasoning: kind === 'harmony' ? ('harmony' as const) : ('qwen3' as const) };
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 14 }), (parts) => {
          const text = parts.join('');
          const whole = fold(createOutputParser({ ...opts, rng: new SeededRng('t') }), [text]);
          for (const call of whole.calls) expect(() => JSON.parse(call.function.arguments), call.function.arguments).not.toThrow();
          const expected = JSON.stringify(shape(whole));
          for (const split of everySplit(text)) {
            expect(JSON.stringify(shape(fold(createOutputParser({ ...opts, rng: new SeededRng('t') }), split))), JSON.stringify(split)).toBe(expected);
          }
        }),
        { numRuns: 300 },
      );
    },
  );
});
