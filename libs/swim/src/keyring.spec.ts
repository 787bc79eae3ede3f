import { describe, expect, it } from 'vitest';
import { Keyring, openPacket, sealPacket } from './keyring';

const key = (byte: number) => new Uint8Array(32).fill(byte);

describe('keyring (AES-256-GCM)', () => {
  it('seals and opens, with a fresh nonce per packet', () => {
    const ring = new Keyring([key(1)]);
    const a = ring.seal(new Uint8Array([1, 2, 3]));
    const b = ring.seal(new Uint8Array([1, 2, 3]));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect([...ring.open(a)!]).toEqual([1, 2, 3]);
  });

  it('rejects tampered packets and foreign keys', () => {
    const ring = new Keyring([key(1)]);
    const sealed = ring.seal(new Uint8Array([1, 2, 3]));
    const tampered = sealed.slice();
    tampered[15] ^= 1;
    expect(ring.open(tampered)).toBeUndefined();
    expect(new Keyring([key(2)]).open(sealed)).toBeUndefined();
  });

  it('rotates keys: install, switch primary, remove old', () => {
    const oldRing = new Keyring([key(1)]);
    const ring = new Keyring([key(1)]);
    ring.addKey(key(2));
    ring.useKey(key(2));
    // Old nodes' packets still open; new packets are sealed with the new key.
    expect(ring.open(oldRing.seal(new Uint8Array([7])))).toBeDefined();
    const sealedNew = ring.seal(new Uint8Array([8]));
    expect(new Keyring([key(2)]).open(sealedNew)).toBeDefined();
    expect(() => ring.removeKey(key(2))).toThrow();
    ring.removeKey(key(1));
    expect(ring.open(oldRing.seal(new Uint8Array([7])))).toBeUndefined();
  });

  it('refuses keys of the wrong size', () => {
    expect(() => new Keyring([new Uint8Array(16)])).toThrow(RangeError);
  });

  it('a keyed node refuses plaintext; an unkeyed node cannot read sealed packets', () => {
    const ring = new Keyring([key(1)]);
    expect(openPacket(ring, sealPacket(undefined, new Uint8Array([1])))).toEqual({ ok: false, reason: 'unauthenticated' });
    expect(openPacket(undefined, sealPacket(ring, new Uint8Array([1])))).toEqual({ ok: false, reason: 'unauthenticated' });
    expect(openPacket(new Keyring([key(3)]), sealPacket(ring, new Uint8Array([1])))).toEqual({ ok: false, reason: 'decrypt_failed' });
    const opened = openPacket(ring, sealPacket(ring, new Uint8Array([4])));
    expect(opened.ok && [...opened.plaintext]).toEqual([4]);
  });
});
