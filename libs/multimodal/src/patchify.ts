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
                // A scalar copy: subarray()+set() per 14-value run allocated half a million views
                // for a 1080p photo and was 5x slower.
                let src = c * plane + (y0 + ph) * width + x0;
                for (let pw = 0; pw < P; pw++) patches[o++] = chw[src++];
              }
            }
          }
        }
      }
    }
  }
  return { patches, rows, cols, gridH, gridW };
}

/**
 * patchify(normalise(pixels)) in one pass straight from the decoder's HWC bytes: each value goes
 * through its channel's lookup table once, and the repeated temporal frame is a native copy of the
 * first. Same output as the two-step path (tested), about twice as fast on a 1080p photo.
 * Self-contained on purpose (the grid arithmetic is repeated, not shared with patchify): its
 * source text is what PatchifyPool's worker threads run, so it may not call anything outside.
 */
export function patchifyBytes(
  data: Uint8Array,
  channels: number,
  height: number,
  width: number,
  luts: readonly [Float32Array, Float32Array, Float32Array],
  cfg: VisionConfig,
): { patches: Float32Array; rows: number; cols: number; gridH: number; gridW: number } {
  const P = cfg.patchSize;
  const M = cfg.mergeSize;
  const T = cfg.temporalPatchSize;
  const gridH = height / P;
  const gridW = width / P;
  if (!Number.isInteger(gridH / M) || !Number.isInteger(gridW / M)) throw new Error(`patchify: ${width}x${height} is not a multiple of ${P * M}`);
  const rows = gridH * gridW;
  const frame = P * P;
  const cols = 3 * T * frame;
  const patches = new Float32Array(rows * cols);
  let o = 0;
  for (let bh = 0; bh < gridH / M; bh++) {
    for (let bw = 0; bw < gridW / M; bw++) {
      for (let mh = 0; mh < M; mh++) {
        for (let mw = 0; mw < M; mw++) {
          const y0 = (bh * M + mh) * P;
          const x0 = (bw * M + mw) * P;
          for (let c = 0; c < 3; c++) {
            const lut = luts[c];
            const ch = Math.min(c, channels - 1);
            const start = o;
            for (let ph = 0; ph < P; ph++) {
              let src = ((y0 + ph) * width + x0) * channels + ch;
              for (let pw = 0; pw < P; pw++, src += channels) patches[o++] = lut[data[src]];
            }
            for (let t = 1; t < T; t++, o += frame) patches.copyWithin(o, start, start + frame);
          }
        }
      }
    }
  }
  return { patches, rows, cols, gridH, gridW };
}
