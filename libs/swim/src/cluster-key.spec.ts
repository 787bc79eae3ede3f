import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseClusterKey } from './cluster-key';

describe('cluster keys', () => {
  it('takes 32 bytes as base64 (padded or not), base64url or hex', () => {
    const key = randomBytes(32);
    for (const text of [key.toString('base64'), key.toString('base64').replace(/=$/, ''), key.toString('base64url'), key.toString('hex'), ` ${key.toString('hex').toUpperCase()}\n`]) {
      const parsed = parseClusterKey(text);
      expect(parsed.ok && parsed.key.equals(key), text).toBe(true);
    }
  });

  it('refuses passphrases, other lengths and known or degenerate keys', () => {
    for (const text of ['test-cluster-key', 'change-me-compose-cluster-key', '', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), randomBytes(31).toString('hex')]) {
      expect(parseClusterKey(text).ok, text).toBe(false);
    }
    for (const key of [Buffer.alloc(32), Buffer.alloc(32, 7), Buffer.from(Array.from({ length: 32 }, (_, i) => i))]) {
      const parsed = parseClusterKey(key.toString('base64'));
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.problem).toMatch(/known example or default key/);
    }
  });
});
