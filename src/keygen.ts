/**
 * `npm run keygen`: prints a fresh secret (32 random bytes, base64) for --admin-key, --api-key or
 * --mesh-key. Nothing else is printed, so `export DROVER_ADMIN_KEY=$(npm run -s keygen)` works.
 */
import { randomBytes } from 'node:crypto';

process.stdout.write(`${randomBytes(32).toString('base64')}\n`);
