import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Node identities: a node can only speak as itself. Every node holds its own Ed25519 key, and a
 * certificate binding its name to that key, signed by the mesh identity authority (an Ed25519 key
 * the operator keeps offline; nodes hold only its public half). Messages carry a proof — the
 * certificate and a signature over the message — and receivers accept a message only when the
 * proof verifies and names the node the message claims to come from. The cluster key alone, which
 * every node holds, therefore cannot be used to speak as another node.
 *
 * Credential text (`--mesh-identity`): `drv-id1.<name>.<private seed>.<authority signature>`,
 * base64url parts. Authority key text: base64 of the raw 32-byte public key or private seed.
 */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const CERT_DOMAIN = Buffer.from('drover-mesh-identity-v1\0');
const CREDENTIAL_TAG = 'drv-id1';
const SIG_BYTES = 64;
const PUB_BYTES = 32;

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== PUB_BYTES) throw new RangeError('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('an Ed25519 private key is a 32-byte seed');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublic(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function rawSeed(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

function certContent(name: string, publicKey: Uint8Array): Buffer {
  const n = Buffer.from(name);
  if (n.length === 0 || n.length > 255) throw new RangeError('node names are 1-255 bytes');
  return Buffer.concat([CERT_DOMAIN, Buffer.from([n.length]), n, publicKey]);
}

/** A new identity authority: the public half goes to every node, the private half stays offline. */
export function generateIdentityAuthority(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: rawPublic(publicKey).toString('base64'), privateKey: rawSeed(privateKey).toString('base64') };
}

/** Issues a node's credential (its own fresh key, certified for `name`) with the authority's private key. */
export function issueIdentity(authorityPrivate: string, name: string): string {
  const authority = privateKeyFromSeed(Buffer.from(authorityPrivate, 'base64'));
  const { privateKey } = generateKeyPairSync('ed25519');
  const pub = rawPublic(createPublicKey(privateKey));
  const certSig = sign(null, certContent(name, pub), authority);
  return [CREDENTIAL_TAG, Buffer.from(name).toString('base64url'), rawSeed(privateKey).toString('base64url'), certSig.toString('base64url')].join('.');
}

/**
 * Checks proofs against the authority: which node (if any) signed some content. Certificates that
 * verified once are remembered (bounded), so a message costs one signature check, not two.
 */
export class IdentityVerifier {
  private readonly authority: KeyObject;
  private readonly certified = new Map<string, { name: string; key: KeyObject }>();

  constructor(authorityPublic: string | Uint8Array) {
    const raw = typeof authorityPublic === 'string' ? Buffer.from(authorityPublic, 'base64') : authorityPublic;
    this.authority = publicKeyFromRaw(raw);
  }

  /** The name whose key signed `context + content`, or undefined when the proof does not verify. */
  verify(context: string, content: Uint8Array, proof: Uint8Array | undefined): string | undefined {
    if (!proof || proof.length < 1 + PUB_BYTES + 2 * SIG_BYTES) return undefined;
    const p = Buffer.from(proof.buffer, proof.byteOffset, proof.byteLength);
    const certEnd = 1 + p[0] + PUB_BYTES + SIG_BYTES;
    if (p.length !== certEnd + SIG_BYTES) return undefined;
    const cert = this.certificate(p.subarray(0, certEnd));
    if (!cert) return undefined;
    try {
      return verify(null, Buffer.concat([Buffer.from(context), content]), cert.key, p.subarray(certEnd)) ? cert.name : undefined;
    } catch {
      return undefined;
    }
  }

  private certificate(bytes: Buffer): { name: string; key: KeyObject } | undefined {
    const cacheKey = bytes.toString('base64');
    const hit = this.certified.get(cacheKey);
    if (hit) return hit;
    const nameLength = bytes[0];
    const nameBytes = bytes.subarray(1, 1 + nameLength);
    const pub = bytes.subarray(1 + nameLength, 1 + nameLength + PUB_BYTES);
    const sig = bytes.subarray(1 + nameLength + PUB_BYTES);
    try {
      const name = new TextDecoder('utf-8', { fatal: true }).decode(nameBytes);
      if (!verify(null, certContent(name, pub), this.authority, sig)) return undefined;
      const entry = { name, key: publicKeyFromRaw(pub) };
      if (this.certified.size >= 4096) this.certified.clear();
      this.certified.set(cacheKey, entry);
      return entry;
    } catch {
      return undefined;
    }
  }
}

/** This node's identity: proves messages as `name`, and verifies everyone's proofs. */
export class NodeIdentity {
  private readonly key: KeyObject;
  private readonly cert: Buffer;

  private constructor(readonly name: string, key: KeyObject, cert: Buffer, readonly verifier: IdentityVerifier) {
    this.key = key;
    this.cert = cert;
  }

  /** Parses a credential and checks it is certified by the authority (a wrong pairing fails here, at start). */
  static fromCredential(credential: string, authorityPublic: string | Uint8Array): NodeIdentity {
    const parts = credential.trim().split('.');
    if (parts.length !== 4 || parts[0] !== CREDENTIAL_TAG) throw new RangeError(`a mesh identity looks like ${CREDENTIAL_TAG}.<name>.<key>.<signature> (keygen identity prints one)`);
    const name = Buffer.from(parts[1], 'base64url').toString();
    const key = privateKeyFromSeed(Buffer.from(parts[2], 'base64url'));
    const certSig = Buffer.from(parts[3], 'base64url');
    const n = Buffer.from(name);
    const cert = Buffer.concat([Buffer.from([n.length]), n, rawPublic(createPublicKey(key)), certSig]);
    const verifier = new IdentityVerifier(authorityPublic);
    const identity = new NodeIdentity(name, key, cert, verifier);
    if (identity.verify('check', Buffer.alloc(0), identity.prove('check', Buffer.alloc(0))) !== name) {
      throw new RangeError('the mesh identity is not certified by this identity authority');
    }
    return identity;
  }

  /** Certificate + signature over `context + content`. */
  prove(context: string, content: Uint8Array): Uint8Array {
    return Buffer.concat([this.cert, sign(null, Buffer.concat([Buffer.from(context), content]), this.key)]);
  }

  verify(context: string, content: Uint8Array, proof: Uint8Array | undefined): string | undefined {
    return this.verifier.verify(context, content, proof);
  }
}
