import { ConfigError } from '../config/load-config';
import type { GatewayConfig } from '../config/options';

/**
 * Auth is on unless --no-auth: a node with no key at all would answer 401 to everyone, so it
 * refuses to start and says how to fix it instead.
 */
export function checkAuthConfig(config: GatewayConfig): void {
  if (!config.auth) return;
  if (config.apiKey.length === 0 && !config.adminKey) {
    throw new ConfigError([
      'authentication is on but no key is set: pass --admin-key KEY (env DROVER_ADMIN_KEY) and/or --api-key K1,K2 (env DROVER_API_KEY); ' +
        '`npm run -s keygen` prints a random key. For a trusted local setup only, --no-auth turns authentication off.',
    ]);
  }
}

/** Printed to stderr (besides the log line) whenever a node runs without authentication. */
export const NO_AUTH_BANNER = [
  '',
  '  *****************************************************************************',
  '  *  INSECURE: --no-auth: authentication is OFF. Anyone who can reach this     *',
  '  *  port can run inference, register workers, change policies and read the   *',
  '  *  fleet. Use only on a trusted machine; set --admin-key / --api-key instead. *',
  '  *****************************************************************************',
  '',
].join('\n');
