/**
 * `npm run bench -- vision --json`: image preprocessing cost per image (libs/multimodal, sharp):
 * a 1920x1080 photo-like image as JPEG and PNG, and a 640x480 JPEG, each decoded, oriented,
 * resized to the Qwen2-VL grid, normalised and patchified. Reports p50/p99 ms per image and the
 * tokens each image becomes, and the longest event-loop stall while doing so (the gateway patchifies
 * on worker threads; `jpeg_1080p_inline` is the same work on the event loop, for comparison).
 */
import sharp, { type Sharp } from 'sharp';
import { PatchifyPool, preprocessImage, QWEN2_VL_VISION } from '@drover/multimodal';

export const description = 'image preprocessing ms per image (decode, resize, normalise, patchify) and tokens per image';

/** A smooth gradient with seeded noise: compresses like a photo, unlike a flat colour. */
async function photo(width: number, height: number): Promise<Sharp> {
  const px = Buffer.alloc(width * height * 3);
  let s = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = (s >>> 24) % 32;
      const o = (y * width + x) * 3;
      px[o] = ((x * 255) / width + n) & 255;
      px[o + 1] = ((y * 255) / height + n) & 255;
      px[o + 2] = (((x + y) * 127) / (width + height) + n) & 255;
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } });
}

/** ms per image, and the longest the event loop stayed blocked meanwhile (pool: off-loop patchify). */
async function time(bytes: Buffer, samples: number, pool?: PatchifyPool): Promise<{ p50_ms: number; p99_ms: number; max_loop_block_ms: number; tokens: number; bytes: number }> {
  let tokens = 0;
  for (let i = 0; i < 5; i++) tokens = (await preprocessImage(bytes, QWEN2_VL_VISION, pool)).tokens;
  const ms: number[] = [];
  let maxBlock = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxBlock = Math.max(maxBlock, now - last - 1);
    last = now;
  }, 1);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await preprocessImage(bytes, QWEN2_VL_VISION, pool);
    ms.push(performance.now() - t0);
  }
  clearInterval(ticker);
  ms.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50_ms: round(ms[Math.floor(ms.length / 2)]), p99_ms: round(ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))]), max_loop_block_ms: round(maxBlock), tokens, bytes: bytes.length };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const samples = args.includes('--quick') ? 10 : 40;
  const big = await photo(1920, 1080);
  const small = await photo(640, 480);
  const jpeg1080 = await big.clone().jpeg({ quality: 85 }).toBuffer();
  const png1080 = await big.clone().png().toBuffer();
  const jpeg480 = await small.jpeg({ quality: 85 }).toBuffer();
  const pool = new PatchifyPool();
  try {
    return {
      jpeg_1080p: await time(jpeg1080, samples, pool),
      png_1080p: await time(png1080, samples, pool),
      jpeg_480p: await time(jpeg480, samples, pool),
      // The same 1080p JPEG with the patch layout computed on the event loop (no pool).
      jpeg_1080p_inline: await time(jpeg1080, samples),
      samples,
    };
  } finally {
    await pool.close();
  }
}
