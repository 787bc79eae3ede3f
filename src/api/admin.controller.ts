import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import { z } from 'zod';
import { POLICIES } from '../config/options';
import { parseBody } from './validation';
import type { GatewayConfig } from '../config/options';
import { RoutingService } from '../routing/routing.service';
import { CONFIG } from '../runtime/tokens';

/** Routing internals for operators: policy, tree sizes, evictions, decisions and hit ratio per model. */
const policySchema = z.strictObject({
  policy: z.enum(POLICIES),
  cache_threshold: z.number().min(0).max(1).optional(),
  balance_abs_threshold: z.number().min(0).optional(),
  balance_rel_threshold: z.number().min(1).optional(),
  max_retries: z.number().int().min(0).max(10).optional(),
});

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
      thresholds: {
        cache_threshold: this.config.cacheThreshold,
        balance_abs_threshold: this.config.balanceAbsThreshold,
        balance_rel_threshold: this.config.balanceRelThreshold,
        cold_balance_abs_threshold: this.config.coldBalanceAbsThreshold,
        prefix_hash_tokens: this.config.prefixHashTokens,
        bounded_load_factor: this.config.boundedLoadFactor,
        virtual_nodes: this.config.virtualNodes,
        load_sample_size: this.config.loadSampleSize,
        sticky_idle_ms: this.config.stickyIdleMs,
        tree_budget_tokens: this.config.treeBudgetTokens,
      },
      models: this.routing.stats(),
    };
  }

  /** Sets one model's routing policy and thresholds (on every node when the mesh is on). */
  @Put('policies/:model')
  setPolicy(@Param('model') model: string, @Body() raw: unknown): Record<string, unknown> {
    const body = parseBody(policySchema, raw);
    this.routing.setModelPolicy(model, {
      policy: body.policy,
      cacheThreshold: body.cache_threshold,
      balanceAbsThreshold: body.balance_abs_threshold,
      balanceRelThreshold: body.balance_rel_threshold,
      maxRetries: body.max_retries,
    });
    return { model, ...body };
  }
}
