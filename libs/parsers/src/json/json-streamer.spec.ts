import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonStreamer } from './json-streamer';

/** Feeds `text` in the given pieces; returns what was released and the streamer. */
function stream(pieces: readonly string[]): { released: string; s: JsonStreamer; consumed: number } {
  const s = new JsonStreamer();
  let released = '';
  let consumed = 0;
  for (const p of pieces) {
    const used = s.feed(p, 0);
    consumed += used;
    released += s.drain();
    if (used < p.length) break;
  }
  s.end();
  released += s.drain();
  return { released, s, consumed };
}

describe('JsonStreamer', () => {
  it('releases a complete object verbatim and stops after it', () => {
    const text = '{"a": [1, -2.5e3, "x\\u00e9\\n", {"b": null}], "c": true} tail';
    const { released, s, consumed } = stream([text]);
    expect(s.done).toBe(true);
    expect(released).toBe(text.slice(0, text.indexOf(' tail')));
    expect(consumed).toBe(text.indexOf(' tail'));
  });

  it('every prefix of valid JSON, repaired, parses (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.integer({ min: 0, max: 1000 }), (obj, cut) => {
        const text = JSON.stringify(obj, null, cut % 3);
        const prefix = text.slice(0, cut % (text.length + 1));
        const s = new JsonStreamer();
        s.feed(prefix, 0);
        const released = s.drain();
        expect(text.startsWith(released)).toBe(true);
        expect(() => JSON.parse(released + s.repair())).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('after an error the released prefix is still repairable', () => {
    for (const bad of ['{"a": tru}', '{"a": 1,}', '{"a" 1}', '{"a": "\\q"}', '{"a": [1, 2,, 3]}', '{"a": 01}', '{"a":\n"x\ny"}', '{,}']) {
      const s = new JsonStreamer();
      s.feed(bad, 0);
      expect(s.failed, bad).toBe(true);
      const out = s.drain() + s.repair();
      expect(() => JSON.parse(out), `${bad} → ${out}`).not.toThrow();
    }
  });
});
