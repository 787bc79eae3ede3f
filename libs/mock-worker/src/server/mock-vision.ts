import { createHash } from 'node:crypto';

/** What a vision engine checks before it accepts a request's images, and the ids its cache keys on. */
export type VisionCheck = { ok: true; cacheIds: number[]; imageTokens: number } | { ok: false; message: string };

interface WireTensor {
  data?: Uint8Array;
  inline?: Uint8Array;
  shape?: number[];
  dtype?: string;
}

const BYTES_PER: Record<string, number> = { float32: 4, float16: 2, int32: 4, int64: 8, uint8: 1 };

/**
 * Validates mm_inputs the way an engine must (tensor sizes agree with their shapes, the grid with
 * the patches, the placeholders with the prompt) and returns the prompt with each image's
 * placeholder run replaced by ids derived from that image's pixels, so the prefix cache shares
 * blocks only between identical images, as SGLang's pad values do.
 */
export function checkVisionInputs(mm: any, inputIds: number[], mergeSize = 2): VisionCheck {
  const pv: WireTensor | undefined = mm.pixel_values;
  const grid: WireTensor | undefined = mm.model_specific_tensors?.image_grid_thw;
  const placeholders: { offset?: number; length?: number }[] = mm.mm_placeholders ?? [];
  const pad = mm.im_token_id;
  if (!pv || !grid) return { ok: false, message: 'mm_inputs needs pixel_values and model_specific_tensors.image_grid_thw' };
  const pvBytes = pv.data ?? pv.inline ?? new Uint8Array();
  const [rows, cols] = pv.shape ?? [];
  if (pv.dtype !== 'float32' || !rows || !cols || pvBytes.length !== rows * cols * 4) {
    return { ok: false, message: `pixel_values: ${pvBytes.length} bytes do not match shape [${pv.shape}] of ${pv.dtype}` };
  }
  const grids = readInts(grid);
  if (!grids || grids.length !== placeholders.length * 3) return { ok: false, message: `image_grid_thw must hold 3 ints per image (${placeholders.length} images)` };
  const cacheIds = inputIds.slice();
  let row = 0;
  let imageTokens = 0;
  for (let i = 0; i < placeholders.length; i++) {
    const [t, h, w] = grids.slice(i * 3, i * 3 + 3);
    const patches = t * h * w;
    const tokens = patches / (mergeSize * mergeSize);
    const { offset = 0, length = 0 } = placeholders[i];
    if (length !== tokens) return { ok: false, message: `image ${i}: placeholder length ${length} but grid ${t}x${h}x${w} needs ${tokens} tokens` };
    if (offset + length > inputIds.length || inputIds.slice(offset, offset + length).some((id) => id !== pad)) {
      return { ok: false, message: `image ${i}: placeholder range ${offset}+${length} does not hold image tokens (${pad})` };
    }
    const digest = createHash('sha256').update(pvBytes.subarray(row * cols * 4, (row + patches) * cols * 4)).digest();
    for (let k = 0; k < length; k++) cacheIds[offset + k] = 0x4000_0000 + ((digest.readUInt32LE((k * 4) % 28) + k) >>> 2);
    row += patches;
    imageTokens += length;
  }
  if (row !== rows) return { ok: false, message: `pixel_values has ${rows} patches but the grids account for ${row}` };
  return { ok: true, cacheIds, imageTokens };
}

function readInts(t: WireTensor): number[] | undefined {
  const bytes = t.data ?? t.inline;
  const size = BYTES_PER[t.dtype ?? ''];
  if (!bytes || (t.dtype !== 'int32' && t.dtype !== 'int64') || bytes.length % size !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(size === 8 ? Number(view.getBigInt64(o, true)) : view.getInt32(o, true));
  return out;
}
