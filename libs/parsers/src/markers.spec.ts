import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findFirstMarker, partialMarkerLength } from './markers';

/** The obvious definitions, to compare the fast paths against. */
function partialRef(buf: string, from: number, markers: readonly string[]): number {
  for (let j = from; j < buf.length; j++) if (markers.some((m) => m.length > buf.length - j && m.startsWith(buf.slice(j)))) return buf.length - j;
  return 0;
}

function firstRef(buf: string, from: number, markers: readonly string[]): [number, string] | null {
  for (let i = from; i < buf.length; i++) for (const m of markers) if (buf.startsWith(m, i)) return [i, m];
  return null;
}

describe('marker search', () => {
  const sets = [['<tool_call>'], ['<|end|>', '<|call|>', '<|return|>', '<|start|>', '<|channel|>'], ['[TOOL_CALLS]', '<x>'], ['<|a|>', '<|ab|>']];
  it('matches the obvious definitions (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...sets), fc.array(fc.constantFrom('<', '|', 'a', 'b', 'end', 'call', '>', '[TOOL_', 'CALLS]', 'x', '<tool_', 'call>', 'channel'), { maxLength: 12 }), fc.nat(4), (markers, parts, from) => {
        const buf = parts.join('');
        const f = Math.min(from, buf.length);
        expect(partialMarkerLength(buf, f, markers)).toBe(partialRef(buf, f, markers));
        expect(findFirstMarker(buf, f, markers)).toEqual(firstRef(buf, f, markers));
      }),
      { numRuns: 2000 },
    );
  });
});
