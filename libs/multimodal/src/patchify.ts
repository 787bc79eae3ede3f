import type { VisionConfig } from './vision-config';

/**
 * Cuts a normalised CHW image into the flattened patches a Qwen2-VL-style vision tower takes:
 * rows ordered by merge window (so each 2x2 window's patches are adjacent), each row one patch
 * across channels, temporal frames (the still image repeated) and the patch's pixels. Shape:
 * [gridT·gridH·gridW, C·T·P·P] with gridT = 1 for a still image.
 */
export function patchify(chw: Float32Array, height: number, width: number, cfg: VisionConfig): { patches: Float32Array; rows: number; cols: number; gridH: number; gridW: number } {
  const P = cfg.patchSize;
  const M = cfg.mergeSize;
  const T = cfg.temporalPatchSize;
  const C = 3;
  const gridH = height / P;
  const gridW = width / P;
  if (!Number.isInteger(gridH / M) || !Number.isInteger(gridW / M)) throw new Error(`patchify: ${width}x${height} is not a multiple of ${P * M}`);
  const rows = gridH * gridW;
  const cols = C * T * P * P;
  const patches = new Float32Array(rows * cols);
  const plane = height * width;
  let o = 0;
  for (let bh = 0; bh < gridH / M; bh++) {
    for (let bw = 0; bw < gridW / M; bw++) {
      for (let mh = 0; mh < M; mh++) {
        for (let mw = 0; mw < M; mw++) {
          const y0 = (bh * M + mh) * P;
          const x0 = (bw * M + mw) * P;
          for (let c = 0; c < C; c++) {
            for (let t = 0; t < T; t++) {
              for (let ph = 0; ph < P; ph++) {
                const src = c * plane + (y0 + ph) * width + x0;
                patches.set(chw.subarray(src, src + P), o);
                o += P;
              }
            }
          }
        }
      }
    }
  }
  return { patches, rows, cols, gridH, gridW };
}
