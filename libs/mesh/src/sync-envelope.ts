import { openPacket, sealPacket, type Keyring } from '@drover/swim';

/**
 * One state-sync frame on the wire: `[u8 fromLen][from][u8 toLen][to][frame]`, sealed with the
 * cluster's sync-frame subkey, so the sender and receiver names are authenticated with the frame.
 */
export function sealSyncFrame(keyring: Keyring | undefined, from: string, to: string, frame: Uint8Array): Uint8Array {
  const f = new TextEncoder().encode(from);
  const t = new TextEncoder().encode(to);
  if (f.length > 255 || t.length > 255) throw new RangeError('node name too long');
  const out = new Uint8Array(2 + f.length + t.length + frame.length);
  out[0] = f.length;
  out.set(f, 1);
  out[1 + f.length] = t.length;
  out.set(t, 2 + f.length);
  out.set(frame, 2 + f.length + t.length);
  return sealPacket(keyring?.withPurpose('sync-frame'), out);
}

export type OpenedSyncFrame =
  | { ok: true; from: string; frame: Uint8Array }
  | { ok: false; reason: 'unauthenticated' | 'decrypt_failed' | 'bad_envelope' | 'malformed' | 'wrong_target' };

/** Opens a sealed frame addressed to `self`; anything else is refused with the reason to count. */
export function openSyncFrame(keyring: Keyring | undefined, bytes: Uint8Array, self: string): OpenedSyncFrame {
  const opened = openPacket(keyring?.withPurpose('sync-frame'), bytes);
  if (!opened.ok) return opened;
  const b = opened.plaintext;
  if (b.length < 2) return { ok: false, reason: 'malformed' };
  const fl = b[0];
  if (1 + fl >= b.length) return { ok: false, reason: 'malformed' };
  const tl = b[1 + fl];
  const start = 2 + fl + tl;
  if (start > b.length) return { ok: false, reason: 'malformed' };
  const dec = new TextDecoder();
  if (dec.decode(b.subarray(2 + fl, start)) !== self) return { ok: false, reason: 'wrong_target' };
  return { ok: true, from: dec.decode(b.subarray(1, 1 + fl)), frame: b.subarray(start) };
}
