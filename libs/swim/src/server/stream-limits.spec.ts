import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CountingMetrics } from '@drover/runtime';
import { Keyring } from '../keyring';
import { ChunkCollector, encodeStreamHeader, MAX_HEADER_BYTES } from './stream-frames';
import { UdpTransport, type StreamLimits } from './udp-transport';

/**
 * The TCP (stream) side before authentication: a stranger can make a node buffer at most a small
 * header, for at most a short absolute deadline, on a bounded number of connections; everything
 * it sends that is not authentic is dropped and counted.
 */
describe('mesh stream path: pre-authentication limits', () => {
  const open: UdpTransport[] = [];
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const t of open.splice(0)) t.close();
  });

  const key = randomBytes(32);
  const make = async (limits: Partial<StreamLimits> = {}, ring: Keyring | undefined = new Keyring([key])) => {
    const metrics = new CountingMetrics();
    const t = await UdpTransport.create({ bindHost: '127.0.0.1', bindPort: 0, keyring: ring, metrics, streamLimits: limits });
    open.push(t);
    t.onRequest((_from, bytes) => bytes);
    return { t, metrics, dropped: (reason: string) => metrics.counter('drover_mesh_dropped_messages_total', { reason }) };
  };
  const raw = (t: UdpTransport): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: t.boundPort }, () => resolve(s));
      s.on('error', () => undefined);
      s.once('error', reject);
      sockets.push(s);
    });
  const closed = (s: Socket): Promise<void> => new Promise((resolve) => (s.destroyed || s.readyState === 'closed' ? resolve() : s.once('close', () => resolve())));
  const request = (from: UdpTransport, to: UdpTransport, bytes: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => from.request(to.localAddress, bytes, 5_000, (err, reply) => (err ? reject(err) : resolve(reply!))));

  it('keyed peers exchange requests and replies (header sealed with its own subkey)', async () => {
    const a = await make();
    const b = await make();
    const payload = randomBytes(300_000);
    expect(Buffer.from(await request(a.t, b.t, payload)).equals(payload)).toBe(true);
    // A node with another key cannot even get its header accepted.
    const c = await make({}, new Keyring([randomBytes(32)]));
    await expect(request(c.t, b.t, new Uint8Array([1]))).rejects.toThrow();
    expect(b.dropped('unauthenticated')).toBe(1);
  });

  it('a header longer than the pre-auth cap is refused on sight, before any more is read', async () => {
    const b = await make();
    const s = await raw(b.t);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(MAX_HEADER_BYTES + 1);
    s.write(prefix);
    await closed(s);
    expect(b.dropped('preauth_oversize')).toBe(1);
  });

  it('garbage and unauthenticated headers are dropped and counted; a plaintext header is refused by a keyed node', async () => {
    const b = await make();
    const garbage = await raw(b.t);
    garbage.write(Buffer.concat([Buffer.from([0, 40]), randomBytes(40)]));
    await closed(garbage);
    const plain = await raw(b.t);
    plain.write(encodeStreamHeader(undefined, { from: '1.2.3.4:5', payloadBytes: 10 }));
    await closed(plain);
    expect(b.dropped('unauthenticated') + b.dropped('malformed')).toBe(2);
  });

  it('an authentic header announcing more than the cap is refused before the payload is buffered', async () => {
    const b = await make();
    const s = await raw(b.t);
    s.write(encodeStreamHeader(new Keyring([key]), { from: 'x:1', payloadBytes: 0xffffffff }));
    await closed(s);
    expect(b.dropped('oversize')).toBe(1);
  });

  it('absolute deadlines: a silent or dribbling connection is cut at the deadline, however it trickles', async () => {
    const b = await make({ headerDeadlineMs: 150, requestDeadlineMs: 400 });
    const silent = await raw(b.t);
    const started = Date.now();
    await closed(silent);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(b.dropped('preauth_timeout')).toBe(1);
    // An authentic header, then one byte at a time: the request deadline is absolute, not idle.
    const dribble = await raw(b.t);
    dribble.write(encodeStreamHeader(new Keyring([key]), { from: 'x:1', payloadBytes: 1000 }));
    const drip = setInterval(() => dribble.writable && dribble.write(Buffer.from([1])), 20);
    await closed(dribble);
    clearInterval(drip);
    expect(b.dropped('stream_timeout')).toBe(1);
  });

  it('caps connections per remote host and in total; connections beyond them are closed and counted', async () => {
    const b = await make({ maxConnectionsPerHost: 3, maxInboundConnections: 100, headerDeadlineMs: 5_000 });
    const held = [await raw(b.t), await raw(b.t), await raw(b.t)];
    const extra = await raw(b.t);
    await closed(extra);
    expect(b.dropped('connection_limit')).toBe(1);
    // Closing one frees its slot.
    held[0].destroy();
    await new Promise<void>((resolve) => {
      const poll = setInterval(async () => {
        const s = await raw(b.t);
        setTimeout(() => {
          if (!s.destroyed) {
            clearInterval(poll);
            resolve();
          }
        }, 50);
      }, 100);
    });
  });

  it('collects a dribbled payload with one join (linear), not one concat per chunk', () => {
    const spy = vi.spyOn(Buffer, 'concat');
    try {
      const c = new ChunkCollector();
      for (let i = 0; i < 10_000; i++) c.push(Buffer.alloc(100, i & 255));
      const { head } = c.take(1_000_000);
      expect(head.length).toBe(1_000_000);
      expect(spy.mock.calls.length).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});
