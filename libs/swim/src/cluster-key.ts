/**
 * Cluster keys as operators write them: 32 random bytes, in base64 (what `npm run -s keygen` and
 * `openssl rand -base64 32` print), base64url or hex. A passphrase is refused rather than hashed:
 * a hashed passphrase is only as strong as the passphrase, and a guessable one turns every sealed
 * packet (and anything public derived from it) into an offline guessing oracle.
 */
export const CLUSTER_KEY_BYTES = 32;

/**
 * Keys that were shipped as defaults or examples, or that a careless operator types: refused even
 * though they parse. Bytes, hex of the 32-byte form; any key whose bytes are all equal is refused
 * separately.
 */
const KNOWN_KEYS: ReadonlySet<string> = new Set([
  // 0x00..0x1f, the "sequential bytes" example key.
  Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'),
  // base64 of 'change-me-compose-cluster-key-00' (the shape of the old compose default, padded to 32 bytes).
  Buffer.from('change-me-compose-cluster-key-00').toString('hex'),
]);

export type ParsedClusterKey = { ok: true; key: Buffer } | { ok: false; problem: string };

/** Parses one key; the problem text names what is wrong and how to get a good key. */
export function parseClusterKey(text: string): ParsedClusterKey {
  const trimmed = text.trim();
  const key = decode(trimmed);
  if (!key) {
    return { ok: false, problem: `is not a ${CLUSTER_KEY_BYTES}-byte key in base64 or hex (passphrases are not accepted; \`npm run -s keygen\` prints a key)` };
  }
  if (key.every((b) => b === key[0]) || KNOWN_KEYS.has(key.toString('hex'))) {
    return { ok: false, problem: 'is a known example or default key; generate a fresh one with `npm run -s keygen`' };
  }
  return { ok: true, key };
}

function decode(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(text)) return undefined;
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === CLUSTER_KEY_BYTES ? key : undefined;
}
