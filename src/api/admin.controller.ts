import { Controller, Get, Inject } from '@nestjs/common';
import type { GatewayConfig } from '../config/options';
import { RoutingService } from '../routing/routing.service';
import { CONFIG } from '../runtime/tokens';

/** Routing internals for operators: policy, tree sizes, evictions, decisions and hit ratio per model. */
@Controller('admin')
export class AdminController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(RoutingService) private readonly routing: RoutingService,
  ) {}

  @Get('routing')
  routingState(): Record<string, unknown> {
    return {
      policy: this.config.policy,
      thresholds: { cache_threshold: this.config.cacheThreshold, balance_abs_threshold: this.config.balanceAbsThreshold, balance_rel_threshold: this.config.balanceRelThreshold, tree_budget_tokens: this.config.treeBudgetTokens },
      models: this.routing.stats(),
    };
  }
}
