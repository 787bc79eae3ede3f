import { loadConfig } from '../../src/config/load-config';
import type { GatewayConfig } from '../../src/config/options';
import { TEST_ADMIN_KEY, TEST_API_KEY, TEST_WORKER_EGRESS } from './auth';

/** A gateway config for tests: loopback, a free port, quiet logs, fast health checks, the test keys, loopback workers allowed. */
export function testConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const base = loadConfig(['--port', '0', '--log-level', 'silent', '--health-check-interval-ms', '200'], {});
  // Tests run their workers on loopback: the operator's explicit allowance, as README documents.
  return { ...base, apiKey: [TEST_API_KEY], adminKey: TEST_ADMIN_KEY, egressAllowWorkers: [...TEST_WORKER_EGRESS], ...overrides };
}
