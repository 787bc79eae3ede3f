import { loadConfig } from '../../src/config/load-config';
import type { GatewayConfig } from '../../src/config/options';

/** A gateway config for tests: loopback, a free port, quiet logs, fast health checks. */
export function testConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const base = loadConfig(['--port', '0', '--log-level', 'silent', '--health-check-interval-ms', '200'], {});
  return { ...base, ...overrides };
}
