import { describe, expect, it } from 'vitest';
import { SeededRng } from '@drover/runtime';
import { createOutputParser } from '../output-parser';
import { parseEverySplit } from '../testing/run-split';
import type { ToolDefinition } from '../types';

const tools: ToolDefinition[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
];
const opts = { toolParser: 'hermes' as const, tools };

describe('hermes tool calls', () => {
  it.each([
    {
      title: 'one call',
      text: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
      content: '',
      calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
    },
    {
      title: 'text before, then two calls in a row',
      text: 'Let me check.\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo \\"N\\" \\u00e9"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"tz": ["CET", 1, 2.5e3, true, null]}}\n</tool_call>',
      content: 'Let me check.',
      calls: [
        { name: 'get_weather', arguments: { city: 'Oslo "N" é' } },
        { name: 'get_time', arguments: { tz: ['CET', 1, 2500, true, null] } },
      ],
    },
    {
      title: 'arguments before name, nested objects',
      text: '<tool_call>{"arguments": {"a": {"b": [{}, []]}}, "name": "get_time"}</tool_call>',
      content: '',
      calls: [{ name: 'get_time', arguments: { a: { b: [{}, []] } } }],
    },
    {
      title: 'arguments as a JSON string holding JSON',
      text: '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Rome\\"}"}</tool_call>',
      content: '',
      calls: [{ name: 'get_weather', arguments: { city: 'Rome' } }],
    },
    {
      title: 'no arguments key',
      text: '<tool_call>{"name": "get_time"}</tool_call>',
      content: '',
      calls: [{ name: 'get_time', arguments: {} }],
    },
  ])('$title', ({ text, content, calls }) => {
    const r = parseEverySplit(opts, text);
    expect(r.content).toBe(content);
    expect(r.calls).toEqual(calls);
    expect(r.finishReason).toBe('tool_calls');
    expect(r.malformed).toBe(0);
  });

  it('prose that looks like a call stays text', () => {
    const text = 'Use <tool_call > or <tool_call/> or {"name": "get_weather", "arguments": {}} in prose; <tool_ca';
    const r = parseEverySplit(opts, text);
    expect(r.content).toBe(text);
    expect(r.calls).toEqual([]);
    expect(r.finishReason).toBeNull();
  });

  it('a block that is not a call object is released as text, markers included', () => {
    const text = 'a <tool_call>not json</tool_call> b';
    const r = parseEverySplit(opts, text);
    expect(r.content).toBe(text);
    expect(r.calls).toEqual([]);
  });

  it('malformed arguments after the name: the call is closed with repaired JSON and counted', () => {
    const r = parseEverySplit(opts, '<tool_call>{"name": "get_weather", "arguments": {"city": "Par\x01is"}}</tool_call>after');
    expect(r.calls).toEqual([{ name: 'get_weather', arguments: { city: 'Par' } }]);
    expect(r.malformed).toBe(1);
    expect(r.content).toBe('after');
  });

  it('output cut off inside a call (max_tokens): arguments repaired', () => {
    const r = parseEverySplit(opts, '<tool_call>{"name": "get_weather", "arguments": {"city": "Pa');
    expect(r.calls).toEqual([{ name: 'get_weather', arguments: { city: 'Pa' } }]);
    expect(r.malformed).toBe(1);
  });

  it('output cut off before the name completes: the raw text is content', () => {
    const r = parseEverySplit(opts, 'x <tool_call>{"name": "get_wea');
    expect(r.content).toBe('x <tool_call>{"name": "get_wea');
    expect(r.calls).toEqual([]);
    expect(r.finishReason).toBeNull();
  });

  it('a call to a tool the request did not offer is still a call (the tag is unambiguous)', () => {
    const r = parseEverySplit(opts, '<tool_call>{"name": "launch", "arguments": {}}</tool_call>');
    expect(r.calls).toEqual([{ name: 'launch', arguments: {} }]);
    const p = createOutputParser({ toolParser: 'hermes', tools, rng: new SeededRng('u') });
    p.push('<tool_call>{"name": "launch", "arguments": {}}</tool_call><tool_call>{"name": "get_time"}</tool_call>');
    expect(p.flush().unknownTools).toBe(1);
  });

  it('without tools in the request nothing is parsed', () => {
    const text = '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>';
    expect(parseEverySplit({ toolParser: 'hermes', tools: [] }, text).content).toBe(text);
    expect(parseEverySplit({ ...opts, toolChoice: 'none' }, text).content).toBe(text);
  });
});

describe('call ids', () => {
  it('are call_ + 24 hex digits from the injected rng, deterministic per seed', async () => {
    const { SeededRng } = await import('@drover/runtime');
    const { createOutputParser } = await import('../output-parser');
    const text = '<tool_call>{"name": "get_time", "arguments": {}}</tool_call><tool_call>{"name": "get_time", "arguments": {}}</tool_call>';
    const ids = (seed: string) => [...createOutputParser({ toolParser: 'hermes', tools, rng: new SeededRng(seed) }).push(text).calls, ...[]].filter((d) => d.id).map((d) => d.id);
    const a = ids('s1');
    expect(a).toHaveLength(2);
    for (const id of a) expect(id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(a[0]).not.toBe(a[1]);
    expect(ids('s1')).toEqual(a);
    expect(ids('s2')).not.toEqual(a);
  });
});

describe('hermes slips', () => {
  it('a stray brace before </tool_call> is dropped', () => {
    const r = parseEverySplit(opts, '<tool_call>\n{"name": "get_time", "arguments": {}}}\n</tool_call>');
    expect(r.calls).toEqual([{ name: 'get_time', arguments: {} }]);
    expect(r.content).toBe('');
  });

  it('a missing </tool_call> is tolerated: following text is text', () => {
    const r = parseEverySplit(opts, '<tool_call>{"name": "get_time", "arguments": {}}\nThe time is what it is, and more text follows here.');
    expect(r.calls).toEqual([{ name: 'get_time', arguments: {} }]);
    expect(r.content).toBe('The time is what it is, and more text follows here.');
  });
});
