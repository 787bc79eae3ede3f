/**
 * How a vision model wants its images: the patch geometry and normalisation of its vision tower,
 * and the gateway's safety limits. The defaults are the Qwen2-VL / Qwen2.5-VL family's (patch 14,
 * 2x2 spatial merge, 2-frame temporal patches, CLIP mean/std), which SGLang and vLLM accept as
 * precomputed `pixel_values` plus `image_grid_thw`.
 */
export interface VisionConfig {
  patchSize: number;
  mergeSize: number;
  temporalPatchSize: number;
  /** Resized images keep at least / at most this many pixels (aspect ratio preserved). */
  minPixels: number;
  maxPixels: number;
  imageMean: readonly [number, number, number];
  imageStd: readonly [number, number, number];
  /** Encoded image bytes accepted per image. */
  maxImageBytes: number;
  /** Decoded pixels accepted per image (a decompression-bomb guard, checked before decoding). */
  maxInputPixels: number;
  /** Images per request. */
  maxImages: number;
}

export const QWEN2_VL_VISION: VisionConfig = {
  patchSize: 14,
  mergeSize: 2,
  temporalPatchSize: 2,
  minPixels: 56 * 56,
  maxPixels: 28 * 28 * 1280,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
  maxImageBytes: 20 * 1024 * 1024,
  maxInputPixels: 40_000_000,
  maxImages: 16,
};

/** The side every resized dimension is a multiple of: one merged patch. */
export function resizeFactor(cfg: VisionConfig): number {
  return cfg.patchSize * cfg.mergeSize;
}
