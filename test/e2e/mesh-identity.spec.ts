import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../support/auth';
import { waitFor } from '../support/cluster';
import { freeMeshPort, startGatewayProcess, type GatewayProcess } from '../support/process';

const DIST = join(__dirname, '../../dist/src');
const KEY = randomBytes(32).toString('base64');

/** Node identities end to end: keygen issues them, three gateways mesh with them, an anonymous key holder cannot join. */
describe('mesh node identities (three gateway processes)', () => {
  const nodes: GatewayProcess[] = [];
  let authorityPublic = '';
  let authorityPrivate = '';
  const credential = (name: string) =>
    execFileSync(process.execPath, [join(DIST, 'keygen.js'), 'identity', name], { env: { ...process.env, DROVER_MESH_IDENTITY_AUTHORITY_PRIVATE: authorityPrivate }, encoding: 'utf8' }).trim();
  let seeds = '';

  beforeAll(async () => {
    [authorityPublic, authorityPrivate] = execFileSync(process.execPath, [join(DIST, 'keygen.js'), 'identity-authority'], { encoding: 'utf8' }).trim().split('\n');
    const ports = [await freeMeshPort(), await freeMeshPort(), await freeMeshPort()];
    seeds = ports.map((p) => `127.0.0.1:${p}`).join(',');
    for (let i = 0; i < 3; i++) {
      // The node takes its name from its identity (no --node-name).
      nodes.push(
        await startGatewayProcess(['--mesh', '--mesh-port', String(ports[i]), '--mesh-seeds', seeds, '--mesh-timings', 'local'], {
          DROVER_MESH_KEY: KEY,
          DROVER_MESH_IDENTITY_AUTHORITY: authorityPublic,
          DROVER_MESH_IDENTITY: credential(`id-${i}`),
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
  });

  const json = async (n: GatewayProcess, path: string, init?: RequestInit) => (await (await fetch(`${n.url}${path}`, { ...init, headers: { ...ADMIN, 'content-type': 'application/json' } })).json()) as any;

  it('mesh and replicate state with every message signed', async () => {
    await waitFor(async () => {
      const all = await Promise.all(nodes.map((n) => json(n, '/mesh/status')));
      return all.every((s) => s.members.filter((m: { state: string }) => m.state === 'alive').length === 3);
    }, 15_000, 'membership of 3');
    expect((await json(nodes[0], '/mesh/status')).node).toBe('id-0');
    const res = await fetch(`${nodes[0].url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9', model: 'signed' }) });
    expect(res.status).toBe(201);
    await waitFor(async () => (await json(nodes[2], '/workers')).data.some((w: { url: string }) => w.url === 'http://127.0.0.1:9'), 10_000, 'worker replicated');
  });

  it('a node holding the cluster key but no identity cannot join', async () => {
    const port = await freeMeshPort();
    const anonymous = await startGatewayProcess(['--mesh', '--mesh-port', String(port), '--mesh-seeds', seeds, '--mesh-timings', 'local', '--node-name', 'id-1'], { DROVER_MESH_KEY: KEY });
    try {
      await waitFor(async () => /drover_mesh_dropped_messages_total\{reason="forged_sender"\} [1-9]/.test(await (await fetch(`${nodes[0].url}/metrics`, { headers: ADMIN })).text()), 10_000, 'forged messages counted');
      const members = (await json(nodes[0], '/mesh/status')).members;
      expect(members.filter((m: { name: string }) => m.name === 'id-1')).toHaveLength(1);
      expect(members.find((m: { name: string }) => m.name === 'id-1').address).not.toContain(String(port));
      expect(members.every((m: { state: string }) => m.state === 'alive')).toBe(true);
    } finally {
      await anonymous.stop('SIGKILL');
    }
  });

  it('refuses to start with an identity issued for another name, or from another authority', () => {
    const run = (env: Record<string, string>, args: string[] = []) =>
      spawnSync(process.execPath, [join(DIST, 'main.js'), '--port', '0', '--mesh', ...args], { env: { ...process.env, DROVER_ADMIN_KEY: 'x', DROVER_MESH_KEY: KEY, ...env }, encoding: 'utf8', timeout: 20_000 });
    const wrongName = run({ DROVER_MESH_IDENTITY_AUTHORITY: authorityPublic, DROVER_MESH_IDENTITY: credential('id-0') }, ['--node-name', 'id-9']);
    expect(wrongName.status).toBe(2);
    expect(wrongName.stderr).toContain("--mesh-identity is issued for 'id-0', but --node-name is 'id-9'");
    const otherAuthority = execFileSync(process.execPath, [join(DIST, 'keygen.js'), 'identity-authority'], { encoding: 'utf8' }).split('\n')[0];
    const foreign = run({ DROVER_MESH_IDENTITY_AUTHORITY: otherAuthority, DROVER_MESH_IDENTITY: credential('id-0') });
    expect(foreign.status).toBe(2);
    expect(foreign.stderr).toContain('not certified by this identity authority');
  });
});
