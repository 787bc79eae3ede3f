import { DynamicModule, Global, Module } from '@nestjs/common';
import { SeededRng, SystemClock, SystemTimers, noopMetrics, type Logger, type Metrics } from '@drover/runtime';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '../config/options';
import { CLOCK, CONFIG, LOGGER, METRICS, RNG, TIMERS } from './tokens';

/**
 * Provides the injected world to every service: system clock, timers and a randomly seeded Rng in
 * production (the simulator builds the same libs with virtual ones), the validated config and the
 * process logger.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics: Metrics = noopMetrics): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: METRICS, useValue: metrics },
      { provide: CLOCK, useValue: new SystemClock() },
      { provide: TIMERS, useValue: new SystemTimers() },
      { provide: RNG, useValue: new SeededRng(randomBytes(8).toString('hex')) },
    ];
    return { module: RuntimeModule, providers, exports: providers.map((p) => p.provide) };
  }
}
