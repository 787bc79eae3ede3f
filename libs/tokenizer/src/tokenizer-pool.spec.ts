import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer, type ChatMessage } from './tokenizer';
import { TokenizerPool } from './tokenizer-pool';

// The pool's threads load the compiled tokenizer (npm test builds before running vitest).
let inline: Tokenizer;
let pooled: Tokenizer;
let pool: TokenizerPool;
beforeAll(async () => {
  inline = await Tokenizer.load();
  pooled = await Tokenizer.load(undefined, { chatCacheBytes: 0, l0CacheBytes: 0 });
  pool = new TokenizerPool({ size: 2, thresholdChars: 1 });
  pooled.setOffload(pool);
  // Both threads built: what follows runs on them (before that, work is encoded inline).
  await pool.warmUp(pooled);
  expect(pool.accepts(pooled)).toBe(true);
});
afterAll(() => pool.close());

const longText = (seed: number, chars: number): string => {
  const words = ['alpha', 'beta', 'γάμμα', '数学', 'delta', '🚀', 'epsilon\n', '<|im_start|>', 'zeta.'];
  let s = '';
  for (let i = seed; s.length < chars; i = (i * 31 + 7) % 1009) s += words[i % words.length] + ' ';
  return s;
};

describe('TokenizerPool', () => {
  it('is available once the tokenizer is compiled', () => {
    expect(TokenizerPool.available()).toBe(true);
  });

  it('renders and encodes exactly like the inline path, for long and short conversations', async () => {
    const conversations: ChatMessage[][] = [
      [{ role: 'user', content: 'hi' }],
      [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: longText(1, 20_000) }],
      [{ role: 'user', content: longText(2, 5_000) }, { role: 'assistant', content: 'ok' }, { role: 'user', content: longText(3, 9_000) }],
    ];
    for (const messages of conversations) {
      expect(await pooled.encodeChat(messages, { addGenerationPrompt: true })).toEqual(await inline.encodeChat(messages, { addGenerationPrompt: true }));
    }
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const withTools = [{ role: 'user' as const, content: 'weather?' }];
    expect(await pooled.encodeChat(withTools, { tools, extra: { enable_thinking: false } })).toEqual(await inline.encodeChat(withTools, { tools, extra: { enable_thinking: false } }));
  });

  it('encodes text like the inline path (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 400 }), async (text) => {
        expect(await pooled.encode(text)).toEqual(await inline.encode(text));
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it('serves many concurrent jobs across its threads, each answer matching its own input', async () => {
    const inputs = Array.from({ length: 24 }, (_, i) => [{ role: 'user' as const, content: longText(i + 10, 2_000 + i * 100) }]);
    const got = await Promise.all(inputs.map((m) => pooled.encodeChat(m, {})));
    for (let i = 0; i < inputs.length; i++) expect(got[i]).toEqual(await inline.encodeChat(inputs[i], {}));
  });

  it('never makes a request wait for a thread to start: inline until a thread has the tokenizer, then offloaded', async () => {
    const fresh = await Tokenizer.load(undefined, { chatCacheBytes: 0, l0CacheBytes: 0 });
    const p = new TokenizerPool({ size: 1, thresholdChars: 1 });
    fresh.setOffload(p);
    try {
      const messages = [{ role: 'user' as const, content: longText(5, 20_000) }];
      // The thread is only starting (it loads the module and builds its tokenizer: far longer than
      // one encode), so this request is served inline, at once, and correctly.
      expect(p.accepts(fresh)).toBe(false);
      expect(await fresh.encodeChat(messages, {})).toEqual(await inline.encodeChat(messages, {}));
      expect(p.accepts(fresh)).toBe(false);
      await p.warmUp(fresh);
      expect(p.accepts(fresh)).toBe(true);
      expect(await fresh.encodeChat(messages, {})).toEqual(await inline.encodeChat(messages, {}));
    } finally {
      await p.close();
    }
  }, 120_000);

  it('refuses work once closed', async () => {
    const p = new TokenizerPool({ size: 1, thresholdChars: 1 });
    await p.close();
    await expect(p.encode(inline, 'x', false)).rejects.toThrow(/closed/);
  });
});
