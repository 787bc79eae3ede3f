import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { GatewayConfig } from '../config/options';
import { CONFIG } from '../runtime/tokens';
import { Egress } from './egress';

/**
 * The two egress policies: one for image URLs clients send, one for HTTP workers. Separate on
 * purpose: allowing a private worker network must not let clients fetch images from it.
 */
@Injectable()
export class EgressService implements OnApplicationShutdown {
  readonly images: Egress;
  readonly workers: Egress;

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    this.images = new Egress(config.egressAllowImages);
    this.workers = new Egress(config.egressAllowWorkers);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.images.dispatcher.close(), this.workers.dispatcher.close()]).catch(() => undefined);
  }
}
