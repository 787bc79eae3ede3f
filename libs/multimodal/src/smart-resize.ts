import { MultimodalError } from './multimodal-error';
import { resizeFactor, type VisionConfig } from './vision-config';

/** Images more elongated than this cannot be patched sensibly (Qwen2-VL rejects them too). */
const MAX_ASPECT_RATIO = 200;

/**
 * The size an image is resized to: both sides multiples of the merged-patch factor, the pixel
 * count within [minPixels, maxPixels], the aspect ratio kept as closely as those allow.
 */
export function smartResize(height: number, width: number, cfg: VisionConfig): { height: number; width: number } {
  const factor = resizeFactor(cfg);
  if (!(height > 0 && width > 0)) throw new MultimodalError('bad_geometry', `Image has no pixels (${width}x${height}).`);
  if (Math.max(height, width) / Math.min(height, width) > MAX_ASPECT_RATIO) {
    throw new MultimodalError('bad_geometry', `Image aspect ratio ${width}x${height} exceeds ${MAX_ASPECT_RATIO}:1.`);
  }
  let h = Math.max(factor, Math.round(height / factor) * factor);
  let w = Math.max(factor, Math.round(width / factor) * factor);
  if (h * w > cfg.maxPixels) {
    const beta = Math.sqrt((height * width) / cfg.maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < cfg.minPixels) {
    const beta = Math.sqrt(cfg.minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { height: h, width: w };
}
