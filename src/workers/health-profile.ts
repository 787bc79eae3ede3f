import type { GatewayConfig } from '../config/options';
import type { WorkerRecord } from './worker-record';

export interface HealthProfile {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Health-check timing per engine kind. SGLang's HealthCheck runs a one-token generation through
 * its scheduler and waits at least about a second, longer under load: a short timeout makes a
 * busy engine flap out of ready, and each check adds load. vLLM's (and HTTP workers') checks are
 * cheap and keep the generic settings.
 */
export function healthProfile(config: GatewayConfig, w: Pick<WorkerRecord, 'kind' | 'protocol'>): HealthProfile {
  if (w.kind === 'grpc' && w.protocol === 'sglang') {
    return {
      intervalMs: config.sglangHealthCheckIntervalMs > 0 ? config.sglangHealthCheckIntervalMs : config.healthCheckIntervalMs,
      timeoutMs: Math.max(config.sglangHealthCheckTimeoutMs, 1),
    };
  }
  return { intervalMs: config.healthCheckIntervalMs, timeoutMs: config.healthCheckTimeoutMs };
}
