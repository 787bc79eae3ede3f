import { describe, expect, it } from 'vitest';
import { generateIdentityAuthority, issueIdentity, Keyring, NodeIdentity } from '@drover/swim';
import { openSyncFrame, sealSyncFrame } from './sync-envelope';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 17 + 5) & 255);

describe('sync frame envelope', () => {
  const authority = generateIdentityAuthority();
  const id = (name: string) => NodeIdentity.fromCredential(issueIdentity(authority.privateKey, name), authority.publicKey);
  const ring = new Keyring([KEY]);
  const frame = new Uint8Array([9, 8, 7]);

  it('carries sender and receiver under the seal; refuses other receivers and other keys', () => {
    const sealed = sealSyncFrame(ring, 'a', 'b', frame);
    const opened = openSyncFrame(ring, sealed, 'b');
    expect(opened.ok && opened.from === 'a' && [...opened.frame]).toEqual([9, 8, 7]);
    expect(openSyncFrame(ring, sealed, 'c')).toEqual({ ok: false, reason: 'wrong_target' });
    expect(openSyncFrame(new Keyring([new Uint8Array(32).fill(1)]), sealed, 'b').ok).toBe(false);
  });

  it('with identities, a key holder cannot send frames in another node\'s name', () => {
    const [a, b, evil] = [id('node-a'), id('node-b'), id('evil')];
    const good = sealSyncFrame(ring, 'node-a', 'node-b', frame, a);
    const opened = openSyncFrame(ring, good, 'node-b', b);
    expect(opened.ok && opened.from).toBe('node-a');
    // The cluster key and evil's own identity, claiming to be node-a: refused.
    expect(openSyncFrame(ring, sealSyncFrame(ring, 'node-a', 'node-b', frame, evil), 'node-b', b)).toEqual({ ok: false, reason: 'forged_sender' });
    // The cluster key alone (no proof at all): refused.
    expect(openSyncFrame(ring, sealSyncFrame(ring, 'node-a', 'node-b', frame), 'node-b', b).ok).toBe(false);
    // Evil speaking as itself is fine (membership decides whether anyone listens).
    const own = openSyncFrame(ring, sealSyncFrame(ring, 'evil', 'node-b', frame, evil), 'node-b', b);
    expect(own.ok && own.from).toBe('evil');
  });
});
