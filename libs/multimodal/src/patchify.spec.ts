import { describe, expect, it } from 'vitest';
import { patchify, patchifyBytes } from './patchify';
import { normalisationTables, normalise } from './preprocess';
import { QWEN2_VL_VISION as cfg } from './vision-config';

/** An image whose every value names its own (channel, y, x), so any misplaced value shows. */
function labelled(height: number, width: number): Float32Array {
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[c * height * width + y * width + x] = c * 1e6 + y * 1e3 + x;
  return out;
}
const at = (v: number) => ({ c: Math.floor(v / 1e6), y: Math.floor((v % 1e6) / 1e3), x: v % 1e3 });

describe('patchify (Qwen2-VL layout)', () => {
  const H = 56;
  const W = 84;
  const { patches, rows, cols, gridH, gridW } = patchify(labelled(H, W), H, W, cfg);

  it('has one row per patch and C·T·P·P columns', () => {
    expect([rows, cols, gridH, gridW]).toEqual([(H / 14) * (W / 14), 3 * 2 * 14 * 14, 4, 6]);
    expect(patches.length).toBe(rows * cols);
  });

  it('orders rows by 2x2 merge window, then row-major inside the window', () => {
    const origin = (r: number) => at(patches[r * cols]);
    // Window (0,0): patches (0,0), (0,1), (1,0), (1,1); then window (0,1) starts at patch column 2.
    expect([0, 1, 2, 3, 4].map(origin)).toEqual([
      { c: 0, y: 0, x: 0 },
      { c: 0, y: 0, x: 14 },
      { c: 0, y: 14, x: 0 },
      { c: 0, y: 14, x: 14 },
      { c: 0, y: 0, x: 28 },
    ]);
    // The first window of the second window-row starts at y = 28.
    expect(origin((W / 28) * 4)).toEqual({ c: 0, y: 28, x: 0 });
  });

  it('lays a row out as channel, then the repeated frame, then the patch pixels row-major', () => {
    const row = Array.from(patches.subarray(5 * cols, 6 * cols), at);
    const base = at(patches[5 * cols]);
    row.forEach((p, k) => {
      const c = Math.floor(k / (2 * 196));
      const within = k % 196;
      expect(p).toEqual({ c, y: base.y + Math.floor(within / 14), x: base.x + (within % 14) });
    });
  });

  it('uses every pixel exactly once per frame', () => {
    const counts = new Map<number, number>();
    for (const v of patches) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect(counts.size).toBe(3 * H * W);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
  });
});

describe('patchifyBytes (the fused fast path)', () => {
  it.each([1, 3, 4])('equals patchify(normalise(bytes)) for %i-channel pixels', (channels) => {
    const H = 56;
    const W = 112;
    const bytes = new Uint8Array(H * W * channels);
    let s = 7;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    const fused = patchifyBytes(bytes, channels, H, W, normalisationTables(cfg), cfg);
    const reference = patchify(normalise(bytes, channels, { width: W, height: H }, cfg), H, W, cfg);
    expect(fused.rows).toBe(reference.rows);
    expect(fused.patches).toEqual(reference.patches);
  });
});

describe('PatchifyPool (worker threads)', () => {
  it('gives the same patches as the inline path, for concurrent jobs, and refuses work once closed', async () => {
    const { PatchifyPool } = await import('./patchify-pool');
    const pool = new PatchifyPool(2);
    try {
      const H = 56;
      const W = 84;
      const images = [1, 2, 3, 4].map((seed) => {
        const b = new Uint8Array(H * W * 3);
        let s = seed;
        for (let i = 0; i < b.length; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
        return b;
      });
      const luts = normalisationTables(cfg);
      const expected = images.map((b) => patchifyBytes(b, 3, H, W, luts, cfg).patches);
      const got = await Promise.all(images.map((b) => pool.run(b.slice(), 3, H, W, luts, cfg)));
      got.forEach((r, i) => expect(r.patches).toEqual(expected[i]));
      expect(got[0].rows).toBe((H / 14) * (W / 14));
    } finally {
      await pool.close();
    }
    await expect(pool.run(new Uint8Array(56 * 56 * 3), 3, 56, 56, normalisationTables(cfg), cfg)).rejects.toThrow(/closed/);
  });
});
