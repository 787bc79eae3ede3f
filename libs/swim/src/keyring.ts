import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Envelope version byte: plaintext (no keyring) or AES-256-GCM sealed. Append-only. */
export const ENVELOPE_PLAIN = 0;
export const ENVELOPE_AES_GCM = 1;
/** Bytes a sealed packet adds: version, nonce, tag. */
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/**
 * The cluster key(s). Packets are sealed with the primary key and opened with any key in the ring,
 * so keys rotate without a flag day: install the new key everywhere, make it primary everywhere,
 * then remove the old one.
 */
export class Keyring {
  private ring: Buffer[];
  /** Nonces are a random 96-bit start incremented per packet: unique without a random draw each time. */
  private readonly nonce = randomBytes(NONCE_BYTES);

  constructor(keys: Uint8Array[]) {
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key');
    this.ring = keys.map(checkedKey);
  }

  /** Parses base64 keys (the form operators pass on the command line). */
  static fromBase64(keys: string[]): Keyring {
    return new Keyring(keys.map((k) => Buffer.from(k, 'base64')));
  }

  get keyCount(): number {
    return this.ring.length;
  }

  addKey(key: Uint8Array): void {
    const buf = checkedKey(key);
    if (!this.ring.some((k) => k.equals(buf))) this.ring.push(buf);
  }

  /** Makes an installed key the primary (sealing) key. */
  useKey(key: Uint8Array): void {
    const index = this.ring.findIndex((k) => k.equals(Buffer.from(key)));
    if (index < 0) throw new RangeError('key is not installed');
    const [chosen] = this.ring.splice(index, 1);
    this.ring.unshift(chosen);
  }

  removeKey(key: Uint8Array): void {
    const index = this.ring.findIndex((k) => k.equals(Buffer.from(key)));
    if (index === 0) throw new RangeError('cannot remove the primary key');
    if (index > 0) this.ring.splice(index, 1);
  }

  /** `[version][nonce][ciphertext][tag]`, the version byte authenticated as associated data. */
  seal(plaintext: Uint8Array): Uint8Array {
    const nonce = this.nextNonce();
    const header = Buffer.from([ENVELOPE_AES_GCM]);
    const cipher = createCipheriv('aes-256-gcm', this.ring[0], nonce);
    cipher.setAAD(header);
    const body = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([header, nonce, body, cipher.getAuthTag()]);
  }

  /** The plaintext, or undefined when no key in the ring authenticates the packet. */
  open(packet: Uint8Array): Uint8Array | undefined {
    if (packet.length < SEAL_OVERHEAD || packet[0] !== ENVELOPE_AES_GCM) return undefined;
    const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const nonce = buf.subarray(1, 1 + NONCE_BYTES);
    const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    for (const key of this.ring) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce);
        decipher.setAAD(buf.subarray(0, 1));
        decipher.setAuthTag(tag);
        const out = decipher.update(body);
        decipher.final();
        return out;
      } catch {
        // Wrong key or tampered: try the next key.
      }
    }
    return undefined;
  }

  private nextNonce(): Buffer {
    for (let i = NONCE_BYTES - 1; i >= 0; i--) {
      this.nonce[i] = (this.nonce[i] + 1) & 0xff;
      if (this.nonce[i] !== 0) break;
    }
    return Buffer.from(this.nonce);
  }
}

function checkedKey(key: Uint8Array): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError(`cluster keys are ${KEY_BYTES} bytes (AES-256), got ${key.length}`);
  return Buffer.from(key);
}

/** Wraps a packet for the wire: sealed when a keyring is configured, else a plaintext envelope. */
export function sealPacket(keyring: Keyring | undefined, plaintext: Uint8Array): Uint8Array {
  if (keyring) return keyring.seal(plaintext);
  const out = new Uint8Array(plaintext.length + 1);
  out[0] = ENVELOPE_PLAIN;
  out.set(plaintext, 1);
  return out;
}

export type OpenResult = { ok: true; plaintext: Uint8Array } | { ok: false; reason: 'unauthenticated' | 'decrypt_failed' | 'bad_envelope' };

/**
 * Unwraps a packet. With a keyring, plaintext envelopes are refused (a node without the key cannot
 * join or inject state); without one, sealed packets cannot be read.
 */
export function openPacket(keyring: Keyring | undefined, packet: Uint8Array): OpenResult {
  if (packet.length === 0) return { ok: false, reason: 'bad_envelope' };
  const version = packet[0];
  if (keyring) {
    if (version !== ENVELOPE_AES_GCM) return { ok: false, reason: 'unauthenticated' };
    const plaintext = keyring.open(packet);
    return plaintext ? { ok: true, plaintext } : { ok: false, reason: 'decrypt_failed' };
  }
  if (version === ENVELOPE_PLAIN) return { ok: true, plaintext: packet.subarray(1) };
  return { ok: false, reason: version === ENVELOPE_AES_GCM ? 'unauthenticated' : 'bad_envelope' };
}
