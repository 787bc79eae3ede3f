import { describe, expect, it } from 'vitest';
import { collectToolCalls } from './accumulate';
import { toolChoiceConstraint, ToolChoiceError } from './tool-choice';
import type { ToolDefinition } from './types';

const weather = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const tools: ToolDefinition[] = [
  { type: 'function', function: { name: 'get_weather', parameters: weather } },
  { type: 'function', function: { name: 'ping' } },
];

describe('toolChoiceConstraint', () => {
  it('none / auto / absent constrain nothing', () => {
    expect(toolChoiceConstraint('none', tools)).toBeNull();
    expect(toolChoiceConstraint('auto', tools)).toBeNull();
    expect(toolChoiceConstraint(undefined, tools)).toBeNull();
  });

  it('required admits a non-empty array of calls to offered tools only', () => {
    expect(toolChoiceConstraint('required', tools)).toEqual({
      type: 'array',
      minItems: 1,
      items: {
        anyOf: [
          { type: 'object', properties: { name: { type: 'string', enum: ['get_weather'] }, parameters: weather }, required: ['name', 'parameters'], additionalProperties: false },
          { type: 'object', properties: { name: { type: 'string', enum: ['ping'] }, parameters: { type: 'object', properties: {} } }, required: ['name', 'parameters'], additionalProperties: false },
        ],
      },
    });
  });

  it('named admits the function arguments', () => {
    expect(toolChoiceConstraint({ type: 'function', function: { name: 'get_weather' } }, tools)).toEqual(weather);
  });

  it('rejects impossible choices with the offending param', () => {
    expect(() => toolChoiceConstraint('required', [])).toThrow(ToolChoiceError);
    try {
      toolChoiceConstraint({ type: 'function', function: { name: 'nope' } }, tools);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ToolChoiceError);
      expect((err as ToolChoiceError).param).toBe('tool_choice');
      expect((err as Error).message).toContain("'nope'");
    }
  });
});

describe('collectToolCalls', () => {
  it('folds deltas into a non-streaming tool_calls array', () => {
    expect(
      collectToolCalls([
        { index: 0, id: 'call_a', name: 'f' },
        { index: 0, argumentsDelta: '{"x"' },
        { index: 1, id: 'call_b', name: 'g' },
        { index: 0, argumentsDelta: ': 1}' },
        { index: 1, argumentsDelta: '{}' },
      ]),
    ).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x": 1}' } },
      { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
    ]);
  });
});
