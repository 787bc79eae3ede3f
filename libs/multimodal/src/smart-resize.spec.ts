import { describe, expect, it } from 'vitest';
import { MultimodalError } from './multimodal-error';
import { smartResize } from './smart-resize';
import { QWEN2_VL_VISION as cfg } from './vision-config';

describe('smartResize', () => {
  it.each([
    // [height, width] → [height, width]: multiples of 28, pixel count within bounds
    [[28, 28], [56, 56]], // below minPixels: scaled up
    [[448, 448], [448, 448]], // already on the grid
    [[450, 460], [448, 448]], // rounded to the nearest multiple
    [[1080, 1920], [728, 1316]], // above maxPixels: scaled down, aspect kept
    [[100, 2000], [112, 1988]],
  ])('%j → %j', ([h, w], [eh, ew]) => {
    const r = smartResize(h, w, cfg);
    expect([r.height, r.width]).toEqual([eh, ew]);
    expect(r.height % 28).toBe(0);
    expect(r.width % 28).toBe(0);
    expect(r.height * r.width).toBeLessThanOrEqual(cfg.maxPixels);
    expect(r.height * r.width).toBeGreaterThanOrEqual(cfg.minPixels);
  });

  it('keeps the aspect ratio within a patch for large photos', () => {
    const r = smartResize(3000, 4000, cfg);
    expect(Math.abs(r.width / r.height - 4 / 3)).toBeLessThanOrEqual(28 / r.height + 1e-9);
  });

  it('rejects degenerate and absurdly elongated images', () => {
    expect(() => smartResize(0, 10, cfg)).toThrow(MultimodalError);
    expect(() => smartResize(10, 5000, cfg)).toThrow(/aspect ratio/);
  });
});
