import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Metrics } from '@drover/runtime';
import { Keyring } from '@drover/swim';
import { GrpcSyncTransport, type MeshTlsOptions } from './grpc-sync-transport';

/** A throwaway PKI made with Debian's openssl: a CA, and a certificate for the name `drover-mesh` it signs. */
function makePki(dir: string, name: string): { caCert: Buffer; cert: Buffer; key: Buffer } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`, '-days', '1', '-subj', `/CN=${name} test CA`);
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=DNS:drover-mesh\nextendedKeyUsage=serverAuth,clientAuth\n');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=drover-mesh');
  run('x509', '-req', '-in', `${name}.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  return { caCert: readFileSync(join(dir, `${name}-ca.pem`)), cert: readFileSync(join(dir, `${name}.pem`)), key: readFileSync(join(dir, `${name}.key`)) };
}

function countingMetrics(): Metrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    inc: (name: string, labels?: Record<string, string>, by = 1) => {
      const key = `${name}${labels?.reason ? `:${labels.reason}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + by);
    },
    set: () => undefined,
    observe: () => undefined,
  } as unknown as Metrics & { counts: Map<string, number> };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('mesh sync over mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-mesh-tls-'));
  const good = makePki(dir, 'mesh');
  const rogue = makePki(dir, 'rogue');
  const keyring = new Keyring([Buffer.alloc(32, 7)]);
  const open: GrpcSyncTransport[] = [];
  const tls = (pki: typeof good, ca = good.caCert): MeshTlsOptions => ({ ca, cert: pki.cert, key: pki.key, serverName: 'drover-mesh' });
  const transport = async (nodeName: string, t: MeshTlsOptions | undefined, metrics?: Metrics) => {
    const x = await GrpcSyncTransport.create({ nodeName, bindHost: '127.0.0.1', bindPort: 0, keyring, maxFrameBytes: 1 << 20, tls: t, metrics });
    open.push(x);
    return x;
  };

  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('delivers sealed frames between nodes whose certificates the mesh CA signed', async () => {
    const a = await transport('a', tls(good));
    const b = await transport('b', tls(good));
    const got: [string, number[]][] = [];
    b.onFrame((peer, frame) => got.push([peer, [...frame]]));
    await until(() => {
      a.send('b', b.localAddress, new Uint8Array([1, 2, 3]));
      return got.length > 0;
    });
    expect(got[0]).toEqual(['a', [1, 2, 3]]);
  });

  it('refuses a dialer without a client certificate, or with one from another CA', async () => {
    const metrics = countingMetrics();
    const b = await transport('b', tls(good), metrics);
    const got: string[] = [];
    b.onFrame((peer) => got.push(peer));
    const plain = await transport('plain', undefined);
    // Trusts the mesh CA (so the server's certificate verifies) but presents a rogue certificate.
    const impostor = await transport('impostor', tls(rogue, good.caCert));
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      plain.send('b', b.localAddress, new Uint8Array([9]));
      impostor.send('b', b.localAddress, new Uint8Array([9]));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(got).toEqual([]);
    // Nothing got as far as the frame layer: the TLS handshake refused them.
    expect(metrics.counts.get('drover_mesh_sync_bytes_total') ?? 0).toBe(0);
  });
});
