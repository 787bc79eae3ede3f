import { credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingMetrics } from '@drover/runtime';
import { Keyring } from '@drover/swim';
import { GrpcSyncTransport, type SyncStreamLimits } from './grpc-sync-transport';

const KEY = randomBytes(32);

async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** The sync port before authentication: streams that cannot authenticate are closed and counted, and streams are capped. */
describe('mesh sync streams: pre-authentication limits', () => {
  const open: GrpcSyncTransport[] = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });
  const transport = async (nodeName: string, key: Uint8Array = KEY, limits: Partial<SyncStreamLimits> = {}, metrics = new CountingMetrics()) => {
    const t = await GrpcSyncTransport.create({ nodeName, bindHost: '127.0.0.1', bindPort: 0, keyring: new Keyring([key]), maxFrameBytes: 1 << 16, limits, metrics });
    open.push(t);
    return { t, metrics };
  };
  const dropped = (m: CountingMetrics, reason: string) => m.counter('drover_mesh_dropped_messages_total', { reason });

  it('a stream whose first frame does not open is closed, and the next frames are never read', async () => {
    const { t: b, metrics } = await transport('b');
    const got: string[] = [];
    b.onFrame((peer) => got.push(peer));
    const { t: outsider } = await transport('x', randomBytes(32));
    // Keep sending for a while: the stream is cut after the first frame, the dialer backs off.
    for (let i = 0; i < 40; i++) {
      outsider.send('b', b.localAddress, new Uint8Array([i]));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await until(() => dropped(metrics, 'decrypt_failed') >= 1)).toBe(true);
    expect(got).toEqual([]);
    // Far fewer than the 40 frames were even opened: each refused stream costs one.
    expect(dropped(metrics, 'decrypt_failed')).toBeLessThan(10);
    // A key holder still gets through.
    const { t: a } = await transport('a');
    expect(await until(() => (a.send('b', b.localAddress, new Uint8Array([1])), got.includes('a')))).toBe(true);
  });

  it('a stream that never sends an authentic frame is closed at the deadline; streams per address are capped', async () => {
    const { t: b, metrics } = await transport('b', KEY, { authDeadlineMs: 200, maxStreamsPerHost: 2 });
    b.onFrame(() => undefined);
    // Three dialers from 127.0.0.1: the third stream is refused.
    const dialers = [await transport('a1'), await transport('a2'), await transport('a3')];
    for (const d of dialers) d.t.send('b', b.localAddress, new Uint8Array([1]));
    expect(await until(() => dropped(metrics, 'connection_limit') >= 1)).toBe(true);
    await Promise.all(dialers.map((d) => d.t.close()));
    // A raw stream that opens and sends nothing is closed by the server at the deadline.
    const Ctor = (loadPackageDefinition(loadSync(join(__dirname, '../../../../proto/mesh.proto'), { keepCase: true })) as any).drover.mesh.v1.MeshSync;
    const client = new Ctor(b.localAddress, credentials.createInsecure());
    const call = client.Sync();
    const ended = new Promise<number>((resolve) => call.on('error', (e: { code: number }) => resolve(e.code)));
    expect(await ended).toBe(status.UNAUTHENTICATED);
    expect(dropped(metrics, 'preauth_timeout')).toBe(1);
    client.close();
  });
});
