import { randomBytes } from 'node:crypto';

/** Process mode runs its gateways with auth on: one fresh admin key per run, sent on every call. */
export const SIM_ADMIN_KEY = randomBytes(24).toString('base64url');
export const SIM_AUTH = { authorization: `Bearer ${SIM_ADMIN_KEY}` } as const;
