import { describe, expect, it } from 'vitest';
import { parseEverySplit } from '../testing/run-split';
import type { ToolDefinition } from '../types';

const tools: ToolDefinition[] = [{ function: { name: 'get_weather' } }, { function: { name: 'get_time' } }];

describe('output under a tool_choice constraint', () => {
  it('required: the JSON array becomes parallel calls', () => {
    const r = parseEverySplit({ toolParser: 'hermes', tools, toolChoice: 'required' }, '[{"name": "get_weather", "parameters": {"city": "Paris"}}, {"name": "get_time", "parameters": {}}]');
    expect(r.calls).toEqual([
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_time', arguments: {} },
    ]);
    expect(r.content).toBe('');
    expect(r.finishReason).toBe('tool_calls');
  });

  it('named: the whole output is the arguments', () => {
    const r = parseEverySplit({ toolParser: 'hermes', tools, toolChoice: { type: 'function', function: { name: 'get_time' } } }, '\n{"tz": "CET", "n": [1, {"x": "}"}]}');
    expect(r.calls).toEqual([{ name: 'get_time', arguments: { tz: 'CET', n: [1, { x: '}' }] } }]);
    expect(r.content).toBe('');
  });

  it('named, cut off by max_tokens: repaired arguments, counted as malformed', () => {
    const r = parseEverySplit({ tools, toolChoice: { type: 'function', function: { name: 'get_time' } } }, '{"tz": "CE');
    expect(r.calls).toEqual([{ name: 'get_time', arguments: { tz: 'CE' } }]);
    expect(r.malformed).toBe(1);
  });

  it('an engine that ignored the constraint: plain text stays text', () => {
    expect(parseEverySplit({ tools, toolChoice: 'required' }, 'Hello there').content).toBe('Hello there');
    expect(parseEverySplit({ tools, toolChoice: { type: 'function', function: { name: 'get_time' } } }, 'Hello').content).toBe('Hello');
  });
});

describe('constraint and reasoning', () => {
  it('under required the output is the JSON even when the template opened <think>', () => {
    const r = parseEverySplit({ reasoning: 'qwen3', thinking: { startInReasoning: true }, tools, toolChoice: 'required' }, '[{"name": "get_time", "parameters": {}}]');
    expect(r.reasoning).toBe('');
    expect(r.calls).toEqual([{ name: 'get_time', arguments: {} }]);
  });
});
