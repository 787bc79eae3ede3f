import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { TokenizerPool, type Tokenizer } from '@drover/tokenizer';
import type { Logger, Metrics } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import { ModelBundleService } from '../models/model-bundles.service';
import { CONFIG, LOGGER, METRICS } from '../runtime/tokens';

/**
 * The tokenizer of each model (its bundle's: see ModelBundleService), and the default one (the
 * configured directory, else the bundled Qwen3 one) for requests that name no model.
 */
@Injectable()
export class TokenizerService implements OnModuleInit, OnApplicationShutdown {
  private loaded: Tokenizer | undefined;
  /** Long prompts render and tokenize here, off the event loop (--tokenizer-threads). */
  private readonly pool: TokenizerPool | undefined;

  private readonly reported = { chat: { hits: 0, misses: 0 }, l0: { hits: 0, misses: 0 }, l1: { hits: 0, misses: 0 } };

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(ModelBundleService) private readonly bundles: ModelBundleService,
  ) {
    (metrics as Metrics & { onScrape?: (hook: () => void) => void }).onScrape?.(() => this.publishCacheStats());
    const threads = config.tokenizerThreads === -1 ? availableParallelism() : config.tokenizerThreads;
    if (threads > 0 && TokenizerPool.available()) this.pool = new TokenizerPool({ size: threads, thresholdChars: config.tokenizerOffloadChars });
    else if (threads > 0) log.warn({}, 'tokenizer threads unavailable (compiled tokenizer module not found): long prompts are tokenized on the event loop');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.close();
  }

  private withPool(t: Tokenizer): Tokenizer {
    t.setOffload(this.pool);
    return t;
  }

  /** Cache counters are cumulative in the tokenizer: export their growth since the last scrape. */
  private publishCacheStats(): void {
    if (!this.loaded) return;
    const stats = this.loaded.cacheStats();
    for (const level of ['chat', 'l0', 'l1'] as const) {
      const s = stats[level];
      const r = this.reported[level];
      this.metrics.inc('drover_tokenizer_cache_hits_total', { level }, s.hits - r.hits);
      this.metrics.inc('drover_tokenizer_cache_misses_total', { level }, s.misses - r.misses);
      this.metrics.set('drover_tokenizer_cache_bytes', s.bytes, { level });
      r.hits = s.hits;
      r.misses = s.misses;
    }
  }

  /** Encode time (chat template included) is part of every request's latency. */
  observeEncode(seconds: number): void {
    this.metrics.observe('drover_tokenizer_encode_seconds', seconds);
  }

  /** Detokenization runs on every streamed chunk: its total per request shows its share of latency. */
  observeDecode(seconds: number): void {
    this.metrics.observe('drover_tokenizer_decode_seconds', seconds);
  }

  onModuleInit(): void {
    this.loaded = this.withPool(this.bundles.fallback.tokenizer);
    this.log.info({ tokenizer: this.loaded.name, vocab: this.loaded.vocabSize, tokenizerDir: this.config.tokenizer ?? 'bundled' }, 'tokenizer loaded');
  }

  /**
   * The model's own tokenizer: a Map read once its files are known (synchronous then); only the
   * first request of a model whose worker is still sending its files waits.
   */
  forModel(model: string): Tokenizer | Promise<Tokenizer> {
    const b = this.bundles.bundle(model);
    return 'then' in b ? b.then((x) => this.withPool(x.tokenizer)) : this.withPool(b.tokenizer);
  }

  /** Resolves once every tokenizer thread has the default tokenizer built (tests, benches). */
  async warmThreads(): Promise<void> {
    await this.pool?.warmUp(this.tokenizer);
  }

  /** Encodes the threads have finished so far (0 without threads). */
  get threadEncodes(): number {
    return this.pool?.completed ?? 0;
  }

  get tokenizer(): Tokenizer {
    if (!this.loaded) throw new Error('tokenizer not loaded yet');
    return this.loaded;
  }
}
