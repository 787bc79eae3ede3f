import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { GatewayConfig } from '../config/options';
import { CONFIG } from '../runtime/tokens';
import { RedisResponseStore } from './redis-response-store';
import { MemoryResponseStore, type ResponseStore } from './response-store';

/** Picks the response store from the config: Redis when --redis-url is set, else in memory. */
@Injectable()
export class ResponseStoreService implements OnApplicationShutdown {
  readonly store: ResponseStore;

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    this.store = config.redisUrl ? new RedisResponseStore(config.redisUrl, config.responseTtlSeconds) : new MemoryResponseStore();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
