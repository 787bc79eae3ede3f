import { describe, expect, it } from 'vitest';
import { deriveSubkey, Keyring, keyFingerprint, openPacket, sealPacket } from './keyring';

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

  it('derives a separate subkey per purpose (HKDF): a packet sealed for one purpose opens for no other', () => {
    const datagram = new Keyring([key(1)]);
    const stream = datagram.withPurpose('swim-stream');
    const sync = datagram.withPurpose('sync-frame');
    const sealed = datagram.seal(new Uint8Array([1, 2, 3]));
    expect(datagram.open(sealed)).toBeDefined();
    expect(stream.open(sealed)).toBeUndefined();
    expect(sync.open(sealed)).toBeUndefined();
    expect(stream.open(stream.seal(new Uint8Array([4])))).toBeDefined();
    const subkeys = (['swim-datagram', 'swim-stream', 'sync-frame', 'hyperswarm-topic', 'fingerprint'] as const).map((p) => deriveSubkey(key(1), p).toString('hex'));
    expect(new Set([...subkeys, Buffer.from(key(1)).toString('hex')]).size).toBe(6);
    // The public topic is a one-way function of the key, not the key or a sealing key.
    expect(datagram.withPurpose('hyperswarm-topic').primarySubkey().toString('hex')).toBe(subkeys[3]);
    expect(keyFingerprint(key(1))).toMatch(/^[0-9a-f]{12}$/);
  });

  it('purpose views share the ring: a rotation applies to every purpose at once', () => {
    const ring = new Keyring([key(1)]);
    const stream = ring.withPurpose('swim-stream');
    const oldStream = new Keyring([key(1)], 'swim-stream');
    ring.addKey(key(2));
    ring.useKey(key(2));
    expect(new Keyring([key(2)], 'swim-stream').open(stream.seal(new Uint8Array([1])))).toBeDefined();
    expect(stream.open(oldStream.seal(new Uint8Array([1])))).toBeDefined();
    ring.removeKey(key(1));
    expect(stream.open(oldStream.seal(new Uint8Array([1])))).toBeUndefined();
    expect(stream.fingerprints()).toEqual([keyFingerprint(key(2))]);
  });

  it('refuses an exact copy of a packet it already opened (the replay window), in openPacket as "replayed"', () => {
    const ring = new Keyring([key(1)]);
    const sealed = ring.seal(new Uint8Array([5]));
    expect(openPacket(ring, sealed).ok).toBe(true);
    expect(openPacket(ring, sealed)).toEqual({ ok: false, reason: 'replayed' });
    expect(ring.open(sealed)).toBeUndefined();
    // A fresh seal of the same plaintext is a different packet.
    expect(openPacket(ring, ring.seal(new Uint8Array([5]))).ok).toBe(true);
    // Another node (its own ring) has not seen it: the window is per receiver.
    expect(openPacket(new Keyring([key(1)]), sealed).ok).toBe(true);
  });
});
