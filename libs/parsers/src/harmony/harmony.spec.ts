import { describe, expect, it } from 'vitest';
import { parseEverySplit } from '../testing/run-split';

const tools = [{ function: { name: 'get_weather' } }];

describe('harmony', () => {
  it('reasoning disabled: analysis is content', () => {
    const r = parseEverySplit({ reasoning: 'harmony', thinking: { enabled: false } }, '<|channel|>analysis<|message|>hm<|end|><|start|>assistant<|channel|>final<|message|>ok');
    expect(r).toMatchObject({ reasoning: '', content: 'hmok' });
  });

  it('plain text without channels is content', () => {
    expect(parseEverySplit({ reasoning: 'harmony', toolParser: 'harmony', tools }, 'Hello <|there').content).toBe('Hello <|there');
  });

  it('a channel marker never followed by <|message|> is text, and parsing goes on after it', () => {
    const text = `<|channel|>${'x'.repeat(600)}<|channel|>final<|message|>done`;
    const r = parseEverySplit({ reasoning: 'harmony', toolParser: 'harmony', tools }, text);
    expect(r.content).toBe(`<|channel|>${'x'.repeat(600)}done`);
  });

  it('a call cut off inside its arguments is closed and counted', () => {
    const r = parseEverySplit({ reasoning: 'harmony', toolParser: 'harmony', tools }, '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Par');
    expect(r.calls).toEqual([{ name: 'get_weather', arguments: { city: 'Par' } }]);
    expect(r.malformed).toBe(1);
    expect(r.finishReason).toBe('tool_calls');
  });

  it('analysis, preamble, two calls and their order', () => {
    const text =
      '<|channel|>analysis<|message|>Two cities.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"A"}<|call|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"B"}<|call|>';
    const r = parseEverySplit({ reasoning: 'harmony', toolParser: 'harmony', tools }, text);
    expect(r.reasoning).toBe('Two cities.');
    expect(r.calls.map((c) => c.arguments)).toEqual([{ city: 'A' }, { city: 'B' }]);
    expect(r.content).toBe('');
  });
});
