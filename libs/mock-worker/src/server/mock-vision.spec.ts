import { describe, expect, it } from 'vitest';
import { checkVisionInputs } from './mock-vision';

const PAD = 151655;
const COLS = 3 * 2 * 14 * 14;

/** mm_inputs for one 4x4-patch image whose pixels are all `fill`. */
function mm(fill: number, over: Record<string, unknown> = {}) {
  const pixels = new Float32Array(16 * COLS).fill(fill);
  const grid = new BigInt64Array([1n, 4n, 4n]);
  return {
    pixel_values: { data: new Uint8Array(pixels.buffer), shape: [16, COLS], dtype: 'float32' },
    model_specific_tensors: { image_grid_thw: { data: new Uint8Array(grid.buffer), shape: [1, 3], dtype: 'int64' } },
    im_token_id: PAD,
    mm_placeholders: [{ offset: 1, length: 4 }],
    ...over,
  };
}
const ids = [5, PAD, PAD, PAD, PAD, 6];

describe('mock engine: vision inputs', () => {
  it('accepts consistent tensors and keys the cache on image content', () => {
    const a = checkVisionInputs(mm(0.5), ids);
    const a2 = checkVisionInputs(mm(0.5), ids);
    const b = checkVisionInputs(mm(-0.5), ids);
    expect(a.ok && a2.ok && b.ok).toBe(true);
    if (!a.ok || !a2.ok || !b.ok) return;
    expect(a.imageTokens).toBe(4);
    expect(a.cacheIds).toEqual(a2.cacheIds);
    expect([a.cacheIds[0], a.cacheIds[5]]).toEqual([5, 6]);
    expect(a.cacheIds.slice(1, 5)).not.toEqual(b.cacheIds.slice(1, 5));
    expect(a.cacheIds.slice(1, 5).every((id) => id !== PAD)).toBe(true);
  });

  it.each([
    ['a pixel tensor shorter than its shape', { pixel_values: { data: new Uint8Array(8), shape: [16, COLS], dtype: 'float32' } }, /do not match shape/],
    ['a placeholder length the grid does not give', { mm_placeholders: [{ offset: 1, length: 3 }] }, /needs 4 tokens/],
    ['a placeholder range over text tokens', { mm_placeholders: [{ offset: 0, length: 4 }] }, /does not hold image tokens/],
    ['a missing grid', { model_specific_tensors: {} }, /image_grid_thw/],
  ])('rejects %s', (_name, over, message) => {
    const r = checkVisionInputs(mm(0, over), ids);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
