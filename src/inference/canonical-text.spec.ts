import { describe, expect, it } from 'vitest';
import { canonicalChatText, canonicalPromptText, codeUnits } from './canonical-text';

describe('canonical prompt text (HTTP routing)', () => {
  it('writes each chat message as role, newline, text, newline', () => {
    expect(
      canonicalChatText([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ]),
    ).toBe('system\nBe brief.\nuser\nHi\n');
  });

  it('joins text parts, skips non-text parts and treats missing content as empty', () => {
    const text = canonicalChatText([
      { role: 'user', content: [{ type: 'text', text: 'look ' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'here' }] },
      { role: 'assistant', content: null },
      { role: 'tool' },
    ]);
    expect(text).toBe('user\nlook here\nassistant\n\ntool\n\n');
  });

  it("extends the previous turn's text, so the next turn shares its prefix", () => {
    const turn1 = [{ role: 'system', content: 'S' }, { role: 'user', content: 'first question' }];
    const turn2 = [...turn1, { role: 'assistant', content: 'an answer' }, { role: 'user', content: 'follow-up' }];
    const a = canonicalChatText(turn1);
    const b = canonicalChatText(turn2);
    expect(b.startsWith(a)).toBe(true);
    expect(b.length).toBeGreaterThan(a.length);
  });

  it.each([
    ['a prompt', 'a prompt'],
    [['one', 'two'], 'one\ntwo'],
    [[1, 2, 3], '1 2 3'],
    [[[1, 2], [3]], '1 2\n3'],
    [undefined, ''],
  ])('completions prompt %j → %j', (prompt, text) => {
    expect(canonicalPromptText(prompt)).toBe(text);
  });

  it('gives one number per UTF-16 code unit', () => {
    expect(Array.from(codeUnits('ab'))).toEqual([97, 98]);
    // A surrogate pair is two code units, as in TextRadixTree.
    expect(Array.from(codeUnits('😀'))).toEqual([0xd83d, 0xde00]);
    expect(codeUnits('')).toHaveLength(0);
  });
});
