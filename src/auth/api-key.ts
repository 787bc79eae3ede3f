import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Virtual API keys look like `sk-drv-<id>-<secret>`: the id names the key in logs, limits and the
 * admin API without revealing it; the secret is 32 random bytes. Only sha256(key) is stored (the
 * key is random, so a slow hash buys nothing) and hashes are compared in constant time.
 */
export const KEY_PREFIX = 'sk-drv-';
const ID_BYTES = 6;
const SECRET_BYTES = 32;
const VIRTUAL_KEY = /^sk-drv-([0-9a-f]{12})-([A-Za-z0-9_-]{43})$/;

export function newKeyId(): string {
  return randomBytes(ID_BYTES).toString('hex');
}

/** A fresh key for `id`: shown once to the caller, never stored. */
export function newKeySecret(id: string): string {
  return `${KEY_PREFIX}${id}-${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** The key id inside a well-formed virtual key, else undefined (bootstrap keys have any shape). */
export function virtualKeyId(token: string): string | undefined {
  return VIRTUAL_KEY.exec(token)?.[1];
}

export function hashKey(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function hashKeyHex(token: string): string {
  return hashKey(token).toString('hex');
}

/** Constant-time comparison of two sha256 digests (the lengths are public: always 32 bytes). */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The credential a request carries: `Authorization: Bearer K` (OpenAI clients), `x-api-key: K`
 * (Anthropic clients), or HTTP Basic with the key as the password (a browser on /dashboard).
 */
export function credentialOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const space = auth.indexOf(' ');
    const scheme = space > 0 ? auth.slice(0, space).toLowerCase() : '';
    const value = space > 0 ? auth.slice(space + 1).trim() : '';
    if (scheme === 'bearer' && value) return value;
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      if (password) return password;
    }
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}
