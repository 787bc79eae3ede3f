import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decodeDataUrl, expandPromptImages, MultimodalError, PatchifyPool, preprocessImage, QWEN2_VL_VISION, routingTokens, type ProcessedImage, type VisionConfig } from '@drover/multimodal';
import { DroverError, type Metrics } from '@drover/runtime';
import type { MultimodalInput } from '@drover/worker-proto';
import type { GatewayConfig } from '../config/options';
import { ModelCatalogService } from '../inference/model-catalog.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { CONFIG, METRICS } from '../runtime/tokens';
import { EgressService } from '../egress/egress.service';
import { fetchImage } from './image-fetch';
import { ModelBundleService } from '../models/model-bundles.service';
import { acceptsImages } from '../models/model-capabilities';

/** What the chat template sees in place of each image: Qwen-VL's vision span with one pad. */
export const IMAGE_PLACEHOLDER_TEXT = '<|vision_start|><|image_pad|><|vision_end|>';
export const IMAGE_PAD_TOKEN = '<|image_pad|>';

/** An image part found in a message, with the parameter path errors should name. */
export interface ImageRef {
  url: string;
  param: string;
}

/**
 * Loads and preprocesses a request's images for a vision model, and turns the rendered prompt's
 * one pad per image into the engine's inputs: expanded ids, tensors, and content-keyed ids for
 * cache-aware routing.
 */
@Injectable()
export class VisionService implements OnApplicationShutdown {
  private readonly vision: VisionConfig;
  /** Started with the first image, so nodes without vision traffic spend no threads on it. */
  private pool: PatchifyPool | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(EgressService) private readonly egress: EgressService,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(ModelCatalogService) private readonly catalog: ModelCatalogService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(ModelBundleService) private readonly bundles: ModelBundleService,
  ) {
    this.vision = { ...QWEN2_VL_VISION, maxImageBytes: config.maxImageBytes, maxImages: config.maxImagesPerRequest };
  }

  /** Throws the client-facing 400 when `model` cannot take images (checked once per request, at its first image). */
  requireVision(model: string, param: string): void {
    if (!acceptsImages(this.catalog.resolve(model), this.bundles.peek(model))) {
      throw new DroverError('unsupported', `The model '${model}' does not accept images (its workers do not report vision support).`, { param });
    }
  }

  /**
   * Starts loading a request's images (while its template renders and tokenizes) and returns how to
   * turn the rendered prompt's ids into the request's prompt, routing ids and engine inputs.
   * Without images, the ids pass through untouched.
   */
  begin(refs: readonly ImageRef[]): { apply(ids: number[]): Promise<{ promptIds: number[]; routeIds?: number[]; multimodal?: MultimodalInput }> } {
    if (refs.length === 0) return { apply: async (ids) => ({ promptIds: ids }) };
    const processed = this.preprocess(refs);
    processed.catch(() => undefined); // awaited in apply; a failure must not surface as unhandled meanwhile
    return { apply: async (ids) => this.inputs(ids, this.tokenizers.tokenizer.tokenToId(IMAGE_PAD_TOKEN)!, await processed) };
  }

  private async preprocess(refs: readonly ImageRef[]): Promise<ProcessedImage[]> {
    if (refs.length > this.vision.maxImages) {
      throw new DroverError('invalid_request', `At most ${this.vision.maxImages} images are accepted per request; got ${refs.length}.`, { param: 'messages' });
    }
    return Promise.all(
      refs.map(async (ref) => {
        const started = performance.now();
        try {
          this.pool ??= new PatchifyPool();
          const img = await preprocessImage(await this.load(ref.url), this.vision, this.pool);
          this.metrics.observe('drover_image_preprocess_seconds', (performance.now() - started) / 1000);
          return img;
        } catch (err) {
          if (err instanceof MultimodalError) {
            this.metrics.inc('drover_image_rejected_total', { reason: err.reason });
            throw new DroverError('invalid_request', err.message, { param: ref.param });
          }
          throw err;
        }
      }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }

  /** Expands the pads in the rendered prompt; `padId` is the tokenizer's id of IMAGE_PAD_TOKEN. */
  private inputs(ids: readonly number[], padId: number, images: readonly ProcessedImage[]): { promptIds: number[]; routeIds: number[]; multimodal: MultimodalInput } {
    let prompt;
    try {
      prompt = expandPromptImages(ids, padId, images);
    } catch (err) {
      if (err instanceof MultimodalError) throw new DroverError('invalid_request', err.message, { param: 'messages' });
      throw err;
    }
    const grid = BigInt64Array.from(prompt.gridThw.data, (v) => BigInt(v));
    return {
      promptIds: prompt.inputIds,
      routeIds: routingTokens(prompt),
      multimodal: {
        pixelValues: { data: bytesOf(prompt.pixelValues.data), shape: prompt.pixelValues.shape, dtype: 'float32' },
        tensors: { image_grid_thw: { data: bytesOf(grid), shape: prompt.gridThw.shape, dtype: 'int64' } },
        imTokenId: padId,
        placeholders: prompt.placeholders,
        hashes: prompt.hashes,
      },
    };
  }

  private async load(url: string): Promise<Buffer> {
    if (url.startsWith('data:')) return decodeDataUrl(url, this.vision.maxImageBytes).bytes;
    if (/^https?:\/\//i.test(url)) {
      if (!this.config.remoteImages) throw new MultimodalError('bad_source', 'This gateway accepts inline images only (data: URLs); remote image URLs are disabled.');
      return fetchImage(url, { maxBytes: this.vision.maxImageBytes, timeoutMs: this.config.imageFetchTimeoutMs, egress: this.egress.images });
    }
    throw new MultimodalError('bad_source', 'Image URL must be a data: URL or an http(s) URL.');
  }
}

/** The little-endian bytes of a typed array (every platform Node runs on here is little-endian). */
function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
