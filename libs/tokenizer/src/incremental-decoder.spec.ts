import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from './tokenizer';

let tok: Tokenizer;
beforeAll(async () => {
  tok = await Tokenizer.loadDefault();
});

/** Feeds ids one at a time and returns everything emitted. */
function stream(ids: number[], opts: Parameters<Tokenizer['createDecoder']>[0], chunk = 1): { text: string; matched?: string | number; pieces: string[] } {
  const d = tok.createDecoder(opts);
  const pieces: string[] = [];
  let matched: string | number | undefined;
  for (let i = 0; i < ids.length && !d.finished; i += chunk) {
    const step = d.push(ids.slice(i, i + chunk));
    pieces.push(step.text);
    if (step.finished) matched = step.matchedStop;
  }
  if (!d.finished) pieces.push(d.flush());
  return { text: pieces.join(''), matched, pieces };
}

describe('IncrementalDecoder', () => {
  it('never emits broken UTF-8 when a character spans several tokens', async () => {
    const text = '🚀🎉 中文 ✓ 👩‍👩‍👧';
    const ids = await tok.encode(text);
    const { text: out, pieces } = stream(ids, {});
    expect(out).toBe(text);
    for (const p of pieces) expect(p).not.toContain('\uFFFD');
  });

  it('hides a stop string that spans tokens and never leaks a partial one', async () => {
    const ids = await tok.encode('one two three four five');
    for (const chunk of [1, 2, 3]) {
      const r = stream(ids, { stop: ['o thr'] }, chunk);
      expect(r.text).toBe('one tw');
      expect(r.matched).toBe('o thr');
      for (const p of r.pieces) expect('one two three four five'.includes(p)).toBe(true);
    }
  });

  it('releases held-back text when the stop string never completes', async () => {
    const ids = await tok.encode('abc abd');
    const r = stream(ids, { stop: ['abx'] });
    expect(r.text).toBe('abc abd');
    expect(r.matched).toBeUndefined();
  });

  it('includes the stop string when asked', async () => {
    const ids = await tok.encode('alpha beta gamma');
    expect(stream(ids, { stop: ['beta'], includeStopStrInOutput: true }).text).toBe('alpha beta');
  });

  it('stops at a stop token id or EOS without their text, unless ignore_eos', async () => {
    const hello = await tok.encode('hello world');
    const eos = 151645;
    const r = stream([...hello, eos, ...hello], { eosTokenIds: [eos] });
    expect(r.text).toBe('hello world');
    expect(r.matched).toBe(eos);
    const ignored = stream([...hello, eos, ...hello], { eosTokenIds: [eos], ignoreEos: true });
    expect(ignored.text).toBe('hello worldhello world');
    const stopId = hello[1];
    expect(stream(hello, { stopTokenIds: [stopId] }).matched).toBe(stopId);
  });

  it('skips special tokens by default and keeps them when asked', () => {
    const ids = [151644, ...[872], 151645];
    expect(stream(ids, {}).text).toBe('user');
    expect(stream(ids, { skipSpecialTokens: false }).text).toBe('<|im_start|>user<|im_end|>');
  });

  it('streams any id sequence, in any chunking, to the same text as decoding it whole (property)', async () => {
    const fc = (await import('fast-check')).default;
    // Byte-level tokens (the first 256 ids) split characters often; the rest are ordinary tokens.
    const id = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 256, max: 151_000 }));
    fc.assert(
      fc.property(fc.array(id, { maxLength: 60 }), fc.integer({ min: 1, max: 7 }), (ids, chunk) => {
        expect(stream(ids, { skipSpecialTokens: false }, chunk).text).toBe(tok.decode(ids, { skipSpecialTokens: false }));
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

