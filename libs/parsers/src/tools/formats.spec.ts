/**
 * Table tests for every tool-call format: each scripted output is parsed whole, split in two at
 * every position and fed one character at a time, and must give the same text and calls.
 */
import fc from 'fast-check';
import { SeededRng } from '@drover/runtime';
import { describe, expect, it } from 'vitest';
import { createOutputParser } from '../output-parser';
import { fold, parseEverySplit, shape } from '../testing/run-split';
import type { ToolDefinition, ToolParserKind } from '../types';

const tools: ToolDefinition[] = ['get_weather', 'get_time', 'search'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object' } } }));
const paris = { name: 'get_weather', arguments: { city: 'Paris' } };
const oslo = { name: 'get_time', arguments: { city: 'Oslo', hours: [1, 2.5] } };

interface Case {
  title: string;
  text: string;
  content: string;
  calls: Array<{ name: string; arguments: unknown }>;
  reasoning?: string;
}

const TABLE: Record<ToolParserKind, Case[]> = {
  hermes: [
    { title: 'two calls', text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"city": "Oslo", "hours": [1, 2.5]}}\n</tool_call>', content: '', calls: [paris, oslo] },
  ],
  llama3_json: [
    { title: 'one call', text: '{"name": "get_weather", "parameters": {"city": "Paris"}}', content: '', calls: [paris] },
    { title: 'python_tag, ;-separated', text: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {"city": "Oslo", "hours": [1, 2.5]}}', content: '', calls: [paris, oslo] },
    { title: 'type before name', text: ' {"type": "function", "name": "get_weather", "parameters": {"city": "Paris"}}', content: '', calls: [paris] },
    { title: 'JSON answer that is not a call', text: '{"answer": 42, "name": "get_weather"}', content: '{"answer": 42, "name": "get_weather"}', calls: [] },
    { title: 'unknown name: text', text: '{"name": "Alice", "parameters": {"age": 3}}', content: '{"name": "Alice", "parameters": {"age": 3}}', calls: [] },
    { title: 'call-like JSON inside prose', text: 'Call it like {"name": "get_weather", "parameters": {}}.', content: 'Call it like {"name": "get_weather", "parameters": {}}.', calls: [] },
    { title: 'text after the call', text: '{"name": "get_weather", "parameters": {"city": "Paris"}}\nDone.', content: 'Done.', calls: [paris] },
  ],
  mistral: [
    { title: 'list form', text: '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"city": "Oslo", "hours": [1, 2.5]}}]', content: '', calls: [paris, oslo] },
    { title: 'name[ARGS] form, twice', text: 'Sure.[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{"city": "Oslo", "hours": [1, 2.5]}', content: 'Sure.', calls: [paris, oslo] },
    { title: 'with CALL_ID', text: '[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "Paris"}', content: '', calls: [paris] },
    { title: 'prose mentioning the marker text', text: 'The [TOOL_ token and [TOOLS] are not it.', content: 'The [TOOL_ token and [TOOLS] are not it.', calls: [] },
  ],
  deepseek_v3: [
    {
      title: 'V3 fenced',
      text: 'Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{"city": "Oslo", "hours": [1, 2.5]}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
      content: 'Checking.',
      calls: [paris, oslo],
    },
    { title: 'V3.1 short', text: '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>', content: '', calls: [paris] },
  ],
  pythonic: [
    { title: 'two calls', text: '[get_weather(city="Paris"), get_time(city=\'Oslo\', hours=[1, 2.5])]', content: '', calls: [paris, oslo] },
    { title: 'wrapped, literals', text: '<|python_start|>[search(q="a, b) \\"c\\"", n=None, ok=True, opts={\'k\': (1, 2)}, s=\'\'\'x\'y\'\'\', e=\'\')]<|python_end|>', content: '', calls: [{ name: 'search', arguments: { q: 'a, b) "c"', n: null, ok: true, opts: { k: [1, 2] }, s: "x'y", e: '' } }] },
    { title: 'no arguments', text: '[get_time()]', content: '', calls: [{ name: 'get_time', arguments: {} }] },
    { title: 'prose in brackets', text: '[1] See get_weather(city="x").', content: '[1] See get_weather(city="x").', calls: [] },
    { title: 'unknown first name: text', text: '[note(x=1)]', content: '[note(x=1)]', calls: [] },
    { title: 'not at the start', text: 'Try [get_weather(city="Paris")]', content: 'Try [get_weather(city="Paris")]', calls: [] },
  ],
  harmony: [
    {
      title: 'analysis then a call',
      text: '<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>',
      reasoning: 'Need weather.',
      content: '',
      calls: [paris],
    },
    {
      title: 'analysis then final',
      text: '<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>It is 4.<|return|>',
      reasoning: 'Easy.',
      content: 'It is 4.',
      calls: [],
    },
    {
      title: 'recipient in the role part, preamble',
      text: '<|channel|>commentary<|message|>Let me look.<|end|><|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>{"city": "Oslo", "hours": [1, 2.5]}<|call|>',
      content: 'Let me look.',
      calls: [oslo],
    },
  ],
  kimi_k2: [
    {
      title: 'section with two calls',
      text: 'On it.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{"city": "Oslo", "hours": [1, 2.5]}<|tool_call_end|><|tool_calls_section_end|>',
      content: 'On it.',
      calls: [paris, oslo],
    },
  ],
};

for (const [kind, cases] of Object.entries(TABLE) as Array<[ToolParserKind, Case[]]>) {
  describe(`${kind} tool calls`, () => {
    it.each(cases)('$title', (c) => {
      const r = parseEverySplit({ toolParser: kind, tools, reasoning: kind === 'harmony' ? 'harmony' : null }, c.text);
      expect(r.content).toBe(c.content);
      expect(r.calls).toEqual(c.calls);
      expect(r.reasoning).toBe(c.reasoning ?? '');
      expect(r.finishReason).toBe(c.calls.length > 0 ? 'tool_calls' : null);
      expect(r.malformed).toBe(0);
    });

    it.each(cases)('$title: random multi-splits', (c) => {
      const opts = { toolParser: kind, tools, reasoning: kind === 'harmony' ? ('harmony' as const) : null };
      const expected = JSON.stringify(shape(fold(createOutputParser({ ...opts, rng: new SeededRng('t') }), [c.text])));
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, c.text.length - 1) }), { maxLength: 12 }), (cuts) => {
          const at = [0, ...cuts.sort((a, b) => a - b), c.text.length];
          const pieces = at.slice(1).map((end, k) => c.text.slice(at[k], end));
          expect(JSON.stringify(shape(fold(createOutputParser({ ...opts, rng: new SeededRng('t') }), pieces)))).toBe(expected);
        }),
        { numRuns: 200 },
      );
    });
  });
}

describe('text that only starts like a call is released without waiting for the end', () => {
  it('llama3_json: a JSON answer with a long "name" string is decided after 256 characters', () => {
    const p = createOutputParser({ toolParser: 'llama3_json', tools, rng: new SeededRng('t') });
    const out = p.push(`{"name": "${'a'.repeat(300)}`);
    expect(out.content.length).toBeGreaterThan(256);
    expect(out.calls).toEqual([]);
  });

  it('pythonic: a long bracketed identifier is decided after 256 characters', () => {
    const p = createOutputParser({ toolParser: 'pythonic', tools, rng: new SeededRng('t') });
    expect(p.push(`[${'a'.repeat(300)}`).content.length).toBeGreaterThan(256);
  });
});

/** No lone surrogate (String.prototype.isWellFormed is newer than the project's lib setting). */
function wellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

describe('characters outside the BMP', () => {
  it('whole code points in give whole code points out, for every parser', () => {
    const text = 'Météo 🌦️ <tool_call>{"name": "get_weather", "arguments": {"city": "東京 🗼"}}</tool_call>';
    const kinds: ToolParserKind[] = ['hermes', 'llama3_json', 'mistral', 'deepseek_v3', 'pythonic', 'harmony', 'kimi_k2'];
    const cps = Array.from(text);
    for (const kind of kinds) {
      for (let cut = 0; cut <= cps.length; cut++) {
        const p = createOutputParser({ toolParser: kind, tools, reasoning: 'qwen3', rng: new SeededRng('t') });
        const outs = [p.push(cps.slice(0, cut).join('')), p.push(cps.slice(cut).join('')), p.flush()];
        for (const o of outs) {
          expect(wellFormed(o.content), `${kind} cut ${cut}`).toBe(true);
          for (const d of o.calls) expect(wellFormed(d.argumentsDelta ?? '')).toBe(true);
        }
      }
    }
  });
});
