import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Tokenizer } from '@drover/tokenizer';
import type { Logger } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import { CONFIG, LOGGER } from '../runtime/tokens';

/** Loads the tokenizer once at start (the configured directory, else the bundled Qwen3 one). */
@Injectable()
export class TokenizerService implements OnModuleInit {
  private loaded: Tokenizer | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.loaded = this.config.tokenizer ? await Tokenizer.load(this.config.tokenizer) : await Tokenizer.loadDefault();
    this.log.info({ tokenizer: this.loaded.name, vocab: this.loaded.vocabSize }, 'tokenizer loaded');
  }

  get tokenizer(): Tokenizer {
    if (!this.loaded) throw new Error('tokenizer not loaded yet');
    return this.loaded;
  }
}
