import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Envelope version byte: plaintext (no keyring) or AES-256-GCM sealed. Append-only. */
export const ENVELOPE_PLAIN = 0;
export const ENVELOPE_AES_GCM = 1;
/** Packets per generation remembered for replay detection (two generations are kept). */
const REPLAY_WINDOW = 50_000;
/** Bytes a sealed packet adds: version, nonce, tag. */
export const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/**
 * What a subkey is for. Each purpose gets its own key, derived from the cluster key with HKDF, so
 * no two uses share a key: a datagram cannot be replayed as a stream message or a sync frame, and
 * the public hyperswarm topic reveals nothing usable about the sealing keys. Append-only: a label
 * is part of the key, renaming one is a flag day.
 */
export type KeyPurpose = 'swim-datagram' | 'swim-stream' | 'stream-header' | 'sync-frame' | 'hyperswarm-topic' | 'fingerprint';

const HKDF_SALT = Buffer.from('drover-mesh-v1');

/** HKDF-SHA256(cluster key, purpose): 32 bytes only that purpose uses. */
export function deriveSubkey(clusterKey: Uint8Array, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterKey, HKDF_SALT, `drover/mesh/${purpose}`, KEY_BYTES));
}

/** A short public name for a cluster key (for logs and the admin API; never the key itself). */
export function keyFingerprint(clusterKey: Uint8Array): string {
  return deriveSubkey(clusterKey, 'fingerprint').subarray(0, 6).toString('hex');
}

/** The cluster keys themselves, shared by every purpose's view so a rotation changes them all at once. */
class ClusterKeySet {
  keys: Buffer[];
  version = 0;

  constructor(keys: Buffer[]) {
    this.keys = keys;
  }
}

/**
 * The cluster key(s), seen through one purpose: packets are sealed with the purpose's subkey of
 * the primary key and opened with the subkey of any key in the ring, so keys rotate without a
 * flag day: install the new key everywhere (accepted, not used), make it primary everywhere (sent
 * with), then retire the old one. Views of other purposes (`withPurpose`) share the ring.
 */
export class Keyring {
  private readonly set: ClusterKeySet;
  private derived: Buffer[] = [];
  private derivedVersion = -1;
  /** Nonces are a random 96-bit start incremented per packet: unique without a random draw each time. */
  private readonly nonce = randomBytes(NONCE_BYTES);
  /** Tags of packets opened lately, in two generations (the replay window). */
  private recent = new Set<string>();
  private older = new Set<string>();

  constructor(keys: Uint8Array[], readonly purpose: KeyPurpose = 'swim-datagram', shared?: ClusterKeySet) {
    if (shared) {
      this.set = shared;
      return;
    }
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key');
    this.set = new ClusterKeySet(keys.map(checkedKey));
  }

  /** Parses base64 keys (the form operators pass on the command line). */
  static fromBase64(keys: string[]): Keyring {
    return new Keyring(keys.map((k) => Buffer.from(k, 'base64')));
  }

  /** The same ring seen through another purpose (its own subkeys, the same rotation state). */
  withPurpose(purpose: KeyPurpose): Keyring {
    return purpose === this.purpose ? this : new Keyring([], purpose, this.set);
  }

  get keyCount(): number {
    return this.set.keys.length;
  }

  /** Fingerprints of the installed keys, the primary first. */
  fingerprints(): string[] {
    return this.set.keys.map(keyFingerprint);
  }

  /** The installed key with this fingerprint (for the admin API, which never sees keys again). */
  keyById(fingerprint: string): Buffer | undefined {
    return this.set.keys.find((k) => keyFingerprint(k) === fingerprint);
  }

  /** This purpose's subkey of the primary key (e.g. the hyperswarm topic). */
  primarySubkey(): Buffer {
    return this.subkeys()[0];
  }

  /** This purpose's subkeys of every installed key, the primary first. */
  allSubkeys(): Buffer[] {
    return [...this.subkeys()];
  }

  /** Installs a key: accepted from now on, not used to send until `useKey`. */
  addKey(key: Uint8Array): void {
    const buf = checkedKey(key);
    if (this.set.keys.some((k) => k.equals(buf))) return;
    this.set.keys.push(buf);
    this.set.version++;
  }

  /** Makes an installed key the primary (sending) key. */
  useKey(key: Uint8Array): void {
    const index = this.indexOf(key);
    if (index < 0) throw new RangeError('key is not installed');
    const [chosen] = this.set.keys.splice(index, 1);
    this.set.keys.unshift(chosen);
    this.set.version++;
  }

  /** Retires a key: packets sealed with it are refused from now on. The primary cannot be retired. */
  removeKey(key: Uint8Array): void {
    const index = this.indexOf(key);
    if (index === 0) throw new RangeError('cannot remove the primary key');
    if (index > 0) {
      this.set.keys.splice(index, 1);
      this.set.version++;
    }
  }

  /** `[version][nonce][ciphertext][tag]`, the version byte authenticated as associated data. */
  seal(plaintext: Uint8Array): Uint8Array {
    const nonce = this.nextNonce();
    const header = Buffer.from([ENVELOPE_AES_GCM]);
    const cipher = createCipheriv('aes-256-gcm', this.subkeys()[0], nonce);
    cipher.setAAD(header);
    const body = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([header, nonce, body, cipher.getAuthTag()]);
  }

  /** The plaintext, or undefined when no key in the ring authenticates the packet. */
  open(packet: Uint8Array): Uint8Array | undefined {
    const result = this.openOnce(packet);
    return result === 'replayed' ? undefined : result;
  }

  /**
   * Like `open`, but a packet this view already opened recently is 'replayed': an exact copy
   * (same tag) within the replay window opens once. Older copies are not remembered; they are
   * harmless by construction (docs/SECURITY.md, "Replays and fuzzing").
   */
  openOnce(packet: Uint8Array): Uint8Array | 'replayed' | undefined {
    const plaintext = this.decrypt(packet);
    if (!plaintext) return undefined;
    const tag = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength).toString('latin1', packet.byteLength - TAG_BYTES);
    if (this.recent.has(tag) || this.older.has(tag)) return 'replayed';
    if (this.recent.size >= REPLAY_WINDOW) {
      this.older = this.recent;
      this.recent = new Set();
    }
    this.recent.add(tag);
    return plaintext;
  }

  private decrypt(packet: Uint8Array): Uint8Array | undefined {
    if (packet.length < SEAL_OVERHEAD || packet[0] !== ENVELOPE_AES_GCM) return undefined;
    const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const nonce = buf.subarray(1, 1 + NONCE_BYTES);
    const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    for (const key of this.subkeys()) {
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

  private indexOf(key: Uint8Array): number {
    const buf = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    return this.set.keys.findIndex((k) => k.equals(buf));
  }

  /** Subkeys are derived once per ring change, not per packet. */
  private subkeys(): Buffer[] {
    if (this.derivedVersion !== this.set.version) {
      this.derived = this.set.keys.map((k) => deriveSubkey(k, this.purpose));
      this.derivedVersion = this.set.version;
    }
    return this.derived;
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

export type OpenResult = { ok: true; plaintext: Uint8Array } | { ok: false; reason: 'unauthenticated' | 'decrypt_failed' | 'bad_envelope' | 'replayed' };

/**
 * Unwraps a packet. With a keyring, plaintext envelopes are refused (a node without the key cannot
 * join or inject state); without one, sealed packets cannot be read.
 */
export function openPacket(keyring: Keyring | undefined, packet: Uint8Array): OpenResult {
  if (packet.length === 0) return { ok: false, reason: 'bad_envelope' };
  const version = packet[0];
  if (keyring) {
    if (version !== ENVELOPE_AES_GCM) return { ok: false, reason: 'unauthenticated' };
    const plaintext = keyring.openOnce(packet);
    if (plaintext === 'replayed') return { ok: false, reason: 'replayed' };
    return plaintext ? { ok: true, plaintext } : { ok: false, reason: 'decrypt_failed' };
  }
  if (version === ENVELOPE_PLAIN) return { ok: true, plaintext: packet.subarray(1) };
  return { ok: false, reason: version === ENVELOPE_AES_GCM ? 'unauthenticated' : 'bad_envelope' };
}
