import { randomBytes } from 'node:crypto';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { keyFingerprint } from '@drover/swim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, CLIENT } from '../support/auth';
import { waitFor } from '../support/cluster';
import { freeMeshPort, startGatewayProcess, type GatewayProcess } from '../support/process';

const OLD = randomBytes(32);
const NEW = randomBytes(32);

/**
 * (LAN timings, the production default: the local preset's 50 ms probe timeout is about CPU
 * scheduling on a shared two-core machine, not about keys.)
 *
 * Rotating the cluster key of three real gateway processes through the admin API while clients
 * send requests to every node: no request fails, no node is ever suspected, state keeps
 * replicating under the new key, and the retired key no longer opens anything.
 */
describe('mesh key rotation under traffic (three gateway processes)', () => {
  const nodes: GatewayProcess[] = [];
  let worker: MockWorker;
  beforeAll(async () => {
    worker = await startMockWorker({ port: 0, decodeBaseMs: 1 });
    const ports = [await freeMeshPort(), await freeMeshPort(), await freeMeshPort()];
    const seeds = ports.map((p) => `127.0.0.1:${p}`).join(',');
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startGatewayProcess(['--mesh', '--mesh-port', String(ports[i]), '--mesh-seeds', seeds, '--mesh-key', OLD.toString('base64'), '--node-name', `rot-${i}`, '--worker-urls', worker.url]),
      );
    }
    await waitFor(async () => {
      const all = await Promise.all(nodes.map(async (n) => (await (await fetch(`${n.url}/mesh/status`, { headers: ADMIN })).json()) as any));
      return all.every((s) => s.members.filter((m: { state: string }) => m.state === 'alive').length === 3);
    }, 15_000, 'membership of 3');
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    await worker?.close();
  });

  const admin = async (n: GatewayProcess, method: string, path: string, body?: unknown) => {
    const headers = body === undefined ? ADMIN : { ...ADMIN, 'content-type': 'application/json' };
    const res = await fetch(`${n.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('install, switch, retire on every node with zero failed requests and zero suspicions', async () => {
    const failures: string[] = [];
    let ok = 0;
    let running = true;
    const client = async (n: GatewayProcess) => {
      while (running) {
        try {
          const res = await fetch(`${n.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { ...CLIENT, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: `rotation ${ok}` }], max_tokens: 2 }),
          });
          if (res.status === 200) ok++;
          else failures.push(`${n.url}: ${res.status} ${await res.text()}`);
        } catch (err) {
          failures.push(`${n.url}: ${String(err)}`);
        }
      }
    };
    const traffic = nodes.map(client);
    const started = Date.now();
    const newId = keyFingerprint(NEW);
    const oldId = keyFingerprint(OLD);
    const step = async (name: string, fn: (n: GatewayProcess) => Promise<{ status: number; body: any }>, status: number) => {
      for (const n of nodes) {
        const r = await fn(n);
        expect(r.status, `${name} on ${n.url}: ${JSON.stringify(r.body)}`).toBe(status);
        // Let a few probe rounds and sync exchanges run between nodes under each mixed state.
        const before = ok;
        await waitFor(async () => ok >= before + 20, 10_000, `traffic after ${name}`);
      }
    };
    await step('install', (n) => admin(n, 'POST', '/mesh/keys', { key: NEW.toString('base64') }), 201);
    await step('switch', (n) => admin(n, 'POST', `/mesh/keys/${newId}/primary`), 200);
    await step('retire', (n) => admin(n, 'DELETE', `/mesh/keys/${oldId}`), 200);
    running = false;
    await Promise.all(traffic);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    for (const n of nodes) {
      expect((await admin(n, 'GET', '/mesh/keys')).body.data).toEqual([{ id: newId, primary: true }]);
      const events = n.logs.filter((l) => l.msg === 'mesh membership' && Number(l.time) >= started && ['suspect', 'dead', 'left'].includes(String(l.event)));
      expect(events, n.url).toEqual([]);
      const metrics = await (await fetch(`${n.url}/metrics`, { headers: ADMIN })).text();
      expect(metrics, n.url).not.toMatch(/drover_mesh_dropped_messages_total\{reason="decrypt_failed"\} [1-9]/);
    }
    // State still replicates under the new key alone.
    const added = await admin(nodes[0], 'POST', '/workers', { url: 'http://127.0.0.1:9', model: 'rotated-model' });
    expect(added.status).toBe(201);
    await waitFor(async () => (await admin(nodes[2], 'GET', '/workers')).body.data.some((w: { model?: string; url: string }) => w.url === 'http://127.0.0.1:9'), 10_000, 'worker replicated after rotation');
  });

  it('refuses bad rotation steps with errors in the API shape, and never echoes a key', async () => {
    const n = nodes[0];
    const bad = await admin(n, 'POST', '/mesh/keys', { key: 'a passphrase' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('key');
    expect(JSON.stringify(bad.body)).not.toContain('a passphrase');
    const primary = (await admin(n, 'GET', '/mesh/keys')).body.data[0].id;
    expect((await admin(n, 'DELETE', `/mesh/keys/${primary}`)).status).toBe(409);
    expect((await admin(n, 'POST', '/mesh/keys/000000000000/primary')).status).toBe(404);
    expect((await fetch(`${n.url}/mesh/keys`, { headers: CLIENT })).status).toBe(403);
    expect((await fetch(`${n.url}/mesh/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: NEW.toString('base64') }) })).status).toBe(401);
  });
});
