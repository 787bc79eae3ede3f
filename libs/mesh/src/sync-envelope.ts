import { openPacket, sealPacket, type Keyring, type NodeIdentity } from '@drover/swim';

/** Domain of sync-frame signatures (a SWIM message's signature never verifies as a sync frame). */
const SYNC_CONTEXT = 'drover-sync-v1\0';

/**
 * One state-sync frame on the wire: `[u8 fromLen][from][u8 toLen][to][frame]`, sealed with the
 * cluster's sync-frame subkey, so the sender and receiver names are authenticated with the frame.
 * With node identities the names are followed by `[u16 n][proof]`: the sender's certificate and
 * its signature over the unsigned envelope, so only the node named `from` can have sent it (the
 * cluster key, which every node holds, is not enough).
 */
export function sealSyncFrame(keyring: Keyring | undefined, from: string, to: string, frame: Uint8Array, identity?: NodeIdentity): Uint8Array {
  const f = new TextEncoder().encode(from);
  const t = new TextEncoder().encode(to);
  if (f.length > 255 || t.length > 255) throw new RangeError('node name too long');
  const head = 2 + f.length + t.length;
  const unsigned = new Uint8Array(head + frame.length);
  unsigned[0] = f.length;
  unsigned.set(f, 1);
  unsigned[1 + f.length] = t.length;
  unsigned.set(t, 2 + f.length);
  unsigned.set(frame, head);
  if (!identity) return sealPacket(keyring?.withPurpose('sync-frame'), unsigned);
  const proof = identity.prove(SYNC_CONTEXT, unsigned);
  const out = new Uint8Array(unsigned.length + 2 + proof.length);
  out.set(unsigned.subarray(0, head));
  out[head] = proof.length >> 8;
  out[head + 1] = proof.length & 0xff;
  out.set(proof, head + 2);
  out.set(frame, head + 2 + proof.length);
  return sealPacket(keyring?.withPurpose('sync-frame'), out);
}

export type OpenedSyncFrame =
  | { ok: true; from: string; frame: Uint8Array }
  | { ok: false; reason: 'unauthenticated' | 'decrypt_failed' | 'bad_envelope' | 'replayed' | 'malformed' | 'wrong_target' | 'forged_sender' };

/**
 * Opens a sealed frame addressed to `self`; anything else is refused with the reason to count.
 * With `identity`, the frame must carry a proof by the node it names as its sender.
 */
export function openSyncFrame(keyring: Keyring | undefined, bytes: Uint8Array, self: string, identity?: NodeIdentity): OpenedSyncFrame {
  const opened = openPacket(keyring?.withPurpose('sync-frame'), bytes);
  if (!opened.ok) return opened;
  const b = opened.plaintext;
  if (b.length < 2) return { ok: false, reason: 'malformed' };
  const fl = b[0];
  if (1 + fl >= b.length) return { ok: false, reason: 'malformed' };
  const tl = b[1 + fl];
  const head = 2 + fl + tl;
  if (head > b.length) return { ok: false, reason: 'malformed' };
  const dec = new TextDecoder();
  if (dec.decode(b.subarray(2 + fl, head)) !== self) return { ok: false, reason: 'wrong_target' };
  const from = dec.decode(b.subarray(1, 1 + fl));
  if (!identity) return { ok: true, from, frame: b.subarray(head) };
  if (head + 2 > b.length) return { ok: false, reason: 'malformed' };
  const proofLength = (b[head] << 8) | b[head + 1];
  const frameStart = head + 2 + proofLength;
  if (frameStart > b.length) return { ok: false, reason: 'malformed' };
  const frame = b.subarray(frameStart);
  const unsigned = new Uint8Array(head + frame.length);
  unsigned.set(b.subarray(0, head));
  unsigned.set(frame, head);
  if (identity.verify(SYNC_CONTEXT, unsigned, b.subarray(head + 2, frameStart)) !== from) return { ok: false, reason: 'forged_sender' };
  return { ok: true, from, frame };
}
