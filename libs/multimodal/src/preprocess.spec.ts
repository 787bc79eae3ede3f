import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MultimodalError } from './multimodal-error';
import { preprocessImage } from './preprocess';
import { expandPromptImages, hasContentIds, routingTokens } from './prompt-images';
import { QWEN2_VL_VISION as cfg } from './vision-config';

const solid = (width: number, height: number, rgb: [number, number, number], format: 'png' | 'jpeg' = 'png') => {
  const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  return (format === 'png' ? img.png() : img.jpeg()).toBuffer();
};

const norm = (v: number, c: number) => (v / 255 - cfg.imageMean[c]) / cfg.imageStd[c];

describe('preprocessImage', () => {
  it('resizes to the grid and normalises each channel with the model mean/std', async () => {
    const img = await preprocessImage(await solid(300, 200, [255, 0, 128]), cfg);
    expect(img.resized).toEqual({ width: 308, height: 196 });
    expect(img.grid).toEqual([1, 14, 22]);
    expect(img.tokens).toBe((14 * 22) / 4);
    expect([img.rows, img.cols]).toEqual([14 * 22, 1176]);
    // Row 0: 2 frames x 196 pixels of red, then green, then blue.
    expect(img.patches[0]).toBeCloseTo(norm(255, 0), 4);
    expect(img.patches[2 * 196]).toBeCloseTo(norm(0, 1), 4);
    expect(img.patches[4 * 196 + 7]).toBeCloseTo(norm(128, 2), 2);
    expect(img.original).toEqual({ width: 300, height: 200, format: 'png' });
    expect(img.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies EXIF orientation before sizing (a portrait photo stored landscape)', async () => {
    const stored = await sharp(await solid(400, 200, [10, 20, 30], 'jpeg')).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const img = await preprocessImage(stored, cfg);
    expect(img.original).toMatchObject({ width: 200, height: 400 });
    expect(img.resized).toEqual({ width: 196, height: 392 });
  });

  it('flattens transparency onto white and expands greyscale to three channels', async () => {
    const clear = await sharp({ create: { width: 56, height: 56, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const white = await preprocessImage(clear, cfg);
    expect(white.patches[0]).toBeCloseTo(norm(255, 0), 4);
    const grey = await sharp(await solid(56, 56, [100, 100, 100])).greyscale().png().toBuffer();
    const g = await preprocessImage(grey, cfg);
    expect(g.patches[2 * 196]).toBeCloseTo(norm(100, 1), 2);
  });

  it('rejects corrupt bytes, oversized files and decompression bombs with a MultimodalError', async () => {
    await expect(preprocessImage(Buffer.from('not an image'), cfg)).rejects.toThrow(MultimodalError);
    await expect(preprocessImage(await solid(56, 56, [1, 2, 3]), { ...cfg, maxImageBytes: 10 })).rejects.toMatchObject({ reason: 'too_large' });
    await expect(preprocessImage(await solid(3000, 3000, [1, 2, 3]), { ...cfg, maxInputPixels: 1_000_000 })).rejects.toMatchObject({ reason: 'too_large' });
  });
});

describe('expandPromptImages and routingTokens', () => {
  const PAD = 151655;
  it('expands each placeholder to its image token count and concatenates the tensors', async () => {
    const a = await preprocessImage(await solid(56, 56, [255, 0, 0]), cfg); // 4x4 patches → 4 tokens
    const b = await preprocessImage(await solid(56, 112, [0, 255, 0]), cfg); // 8x4 patches → 8 tokens
    const p = expandPromptImages([1, PAD, 2, PAD, 3], PAD, [a, b]);
    expect(p.inputIds).toEqual([1, ...Array(4).fill(PAD), 2, ...Array(8).fill(PAD), 3]);
    expect(p.placeholders).toEqual([
      { offset: 1, length: 4 },
      { offset: 6, length: 8 },
    ]);
    expect(p.pixelValues.shape).toEqual([48, 1176]);
    expect(p.pixelValues.data.subarray(16 * 1176)).toEqual(b.patches);
    expect(Array.from(p.gridThw.data)).toEqual([1, 4, 4, 1, 8, 4]);
    expect(() => expandPromptImages([1, PAD, PAD], PAD, [a])).toThrow(/2 image placeholder tokens for 1 images/);
  });

  it('routes a repeated image like a repeated prefix and a different one as a divergence at the image', async () => {
    const red = await preprocessImage(await solid(56, 56, [255, 0, 0]), cfg);
    const blue = await preprocessImage(await solid(56, 56, [0, 0, 255]), cfg);
    const r1 = routingTokens(expandPromptImages([7, PAD, 8], PAD, [red]));
    const r2 = routingTokens(expandPromptImages([7, PAD, 8], PAD, [red]));
    const b1 = routingTokens(expandPromptImages([7, PAD, 8], PAD, [blue]));
    expect(r1).toEqual(r2);
    expect(b1[0]).toBe(7);
    expect(b1[5]).toBe(8);
    for (let k = 1; k <= 4; k++) expect(b1[k]).not.toBe(r1[k]);
    expect(new Set(r1.slice(1, 5)).size).toBe(4);
    expect(r1[1]).toBeGreaterThanOrEqual(0x4000_0000);
    expect(hasContentIds(r1)).toBe(true);
    expect(hasContentIds([7, PAD, 8])).toBe(false);
  });
});
