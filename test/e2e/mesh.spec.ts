import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/cluster';
import { freeMeshPort, startGatewayProcess, type GatewayProcess } from '../support/process';
import { ADMIN } from '../support/auth';

const KEY = randomBytes(32).toString('base64');

// --no-kv-events: the nodes route on their approximate trees, so a follow-up turn on another node
// lands right only through the mesh's shared routing state.
describe('mesh: three gateway processes on loopback behave as one gateway', () => {
  const workers: MockWorker[] = [];
  const nodes: GatewayProcess[] = [];
  let seeds = '';
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) workers.push(await startMockWorker({ port: 0, decodeBaseMs: 1 }));
    const ports = [await freeMeshPort(), await freeMeshPort(), await freeMeshPort()];
    seeds = ports.map((p) => `127.0.0.1:${p}`).join(',');
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startGatewayProcess(
          ['--mesh', '--mesh-port', String(ports[i]), '--mesh-seeds', seeds, '--mesh-key', KEY, '--mesh-timings', 'local', '--node-name', `node-${i}`, '--rate-limit-rpm', '8', '--no-kv-events'],
          { DROVER_API_KEY: ['a', 'k0', 'k1', 'k2', 'k3', 'limited-key'].join(',') },
        ),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    await Promise.all(workers.map((w) => w.close()));
  });

  const json = async (url: string, init?: RequestInit) => (await (await fetch(url, { ...init, headers: { ...ADMIN, ...(init?.headers as Record<string, string> | undefined) } })).json()) as any;

  it('forms one membership of three alive nodes', async () => {
    await waitFor(async () => {
      const all = await Promise.all(nodes.map((n) => json(`${n.url}/mesh/status`)));
      return all.every((s) => s.members.filter((m: { state: string }) => m.state === 'alive').length === 3);
    }, 15_000, 'membership of 3');
  });

  it('a worker added on node A is served by B and C', async () => {
    for (const w of workers) {
      const res = await fetch(`${nodes[0].url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url: w.url }) });
      expect(res.status).toBe(201);
    }
    for (const n of nodes.slice(1)) {
      await waitFor(async () => (await json(`${n.url}/workers`)).data.filter((w: { health: string }) => w.health === 'ready').length === 3, 15_000, `workers on ${n.url}`);
      const client = new OpenAI({ baseURL: `${n.url}/v1`, apiKey: 'a', maxRetries: 0 });
      const res = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'via mesh' }], max_tokens: 2 });
      expect(res.choices[0].message.content).toBeTruthy();
    }
  });

  it('shares health verdicts and per-model routing policies across nodes', async () => {
    await waitFor(async () => {
      const w = (await json(`${nodes[2].url}/workers`)).data[0];
      return Object.keys(w.mesh_health).length === 3 && Object.values(w.mesh_health).every((v: any) => v.health === 'ready');
    }, 10_000, 'health verdicts from 3 nodes');
    const put = await fetch(`${nodes[0].url}/admin/policies/qwen3-mock`, { method: 'PUT', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ policy: 'cache_aware', cache_threshold: 0.25 }) });
    expect(put.status).toBe(200);
    await waitFor(async () => (await json(`${nodes[1].url}/admin/routing`)).models[0].settings.cacheThreshold === 0.25, 10_000, 'policy on node-1');
    const bad = await fetch(`${nodes[0].url}/admin/policies/qwen3-mock`, { method: 'PUT', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ policy: 'telepathy' }) });
    expect(bad.status).toBe(400);
  });

  it("routes a conversation's second turn, sent to another node, to the worker of its first turn", async () => {
    for (let s = 0; s < 4; s++) {
      const messages: { role: 'system' | 'user' | 'assistant'; content: string }[] = [
        { role: 'system', content: `Conversation ${s}: a long shared context about subject ${s}. `.repeat(40) },
        { role: 'user', content: 'turn one' },
      ];
      const first = new OpenAI({ baseURL: `${nodes[s % 3].url}/v1`, apiKey: `k${s}`, maxRetries: 0 });
      const r1 = await first.chat.completions.create({ model: 'qwen3-mock', messages, max_tokens: 6 }).withResponse();
      const w1 = r1.response.headers.get('x-drover-worker');
      messages.push({ role: 'assistant', content: r1.data.choices[0].message.content ?? '' }, { role: 'user', content: 'turn two' });
      const other = nodes[(s + 1) % 3];
      // Wait until the other node holds the first node's routing decision (sync staleness).
      const origin = `node-${s % 3}`;
      const written = (await json(`${nodes[s % 3].url}/mesh/status`)).shard_versions[origin].seq;
      await waitFor(async () => ((await json(`${other.url}/mesh/status`)).shard_versions[origin]?.seq ?? 0) >= written, 5000, 'routing op propagated');
      const second = new OpenAI({ baseURL: `${other.url}/v1`, apiKey: `k${s}`, maxRetries: 0 });
      const r2 = await second.chat.completions.create({ model: 'qwen3-mock', messages, max_tokens: 6 }).withResponse();
      expect(r2.response.headers.get('x-drover-worker'), `conversation ${s}`).toBe(w1);
      expect(r2.data.usage!.prompt_tokens_details!.cached_tokens).toBeGreaterThan(r2.data.usage!.prompt_tokens * 0.8);
    }
  });

  it('holds a per-key rate limit mesh-wide (8/min across three nodes is 8, not 24)', async () => {
    let ok = 0;
    let limited = 0;
    for (let i = 0; i < 18; i++) {
      const res = await fetch(`${nodes[i % 3].url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...ADMIN, 'content-type': 'application/json', authorization: 'Bearer limited-key' },
        body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: `rl ${i}` }], max_tokens: 1 }),
      });
      if (res.status === 200) ok++;
      else if (res.status === 429) {
        limited++;
        expect(res.headers.get('retry-after')).toBeTruthy();
      }
      await new Promise((r) => setTimeout(r, 120));
    }
    expect(ok + limited).toBe(18);
    expect(ok).toBeGreaterThanOrEqual(8);
    expect(ok).toBeLessThanOrEqual(10);
  });

  it('a key created on one node works on every node within a second, and a revoked key stops everywhere within a second', async () => {
    const post = (url: string, key: string) =>
      fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'k' }], max_tokens: 1 }) });
    const created = await fetch(`${nodes[0].url}/admin/keys`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mesh', rpm: 10_000 }) });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    for (const n of nodes) await waitFor(async () => (await post(n.url, key)).status === 200, 1000, `key ${id} accepted by ${n.url}`);
    const listed = await json(`${nodes[2].url}/admin/keys`);
    expect(listed.data.find((k: { id: string }) => k.id === id)).toMatchObject({ name: 'mesh', revoked: false });
    expect((await fetch(`${nodes[1].url}/admin/keys/${id}`, { method: 'DELETE', headers: ADMIN })).status).toBe(200);
    for (const n of nodes) await waitFor(async () => (await post(n.url, key)).status === 401, 1000, `key ${id} refused by ${n.url}`);
  });

  it("holds a key's token budget mesh-wide", async () => {
    const created = await fetch(`${nodes[0].url}/admin/keys`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ rpm: 10_000, budget_tokens: 60 }) });
    const { id: keyId, key } = (await created.json()) as { id: string; key: string };
    await waitFor(async () => (await Promise.all(nodes.map((n) => fetch(`${n.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })))).every((r) => r.status === 200), 1000, 'key on every node');
    let spent = 0;
    let ok = 0;
    let perRequest = 0;
    for (let i = 0; i < 15; i++) {
      const res = await fetch(`${nodes[i % 3].url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: `budget ${i}` }], max_tokens: 1 }),
      });
      if (res.status === 200) {
        ok++;
        perRequest = ((await res.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
        spent += perRequest;
      } else expect(res.status).toBe(429);
      // The next node must have heard of this spend (it rides the mesh load channel) before it is asked.
      const next = nodes[(i + 1) % 3].url;
      await waitFor(async () => ((await json(`${next}/admin/keys`)).data.find((k: { id: string }) => k.id === keyId)?.spent_tokens ?? 0) >= spent, 5000, `spend seen by ${next}`);
    }
    expect(ok).toBeGreaterThan(0);
    // Each node alone would admit until *its* count reached 60: three times as much.
    expect(spent).toBeLessThan(60 + 2 * perRequest);
  });

  it('exports mesh metrics that pass promtool', async () => {
    const text = await (await fetch(`${nodes[0].url}/metrics`, { headers: ADMIN })).text();
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'drover-mesh-metrics-')), 'scrape.txt');
    writeFileSync(file, text);
    expect(execFileSync('sh', ['-c', `promtool check metrics < ${file} 2>&1; echo "exit=$?"`]).toString().trim().split('\n').pop()).toBe('exit=0');
    expect(text).toMatch(/drover_mesh_members\{state="alive"\} 3/);
    expect(text).toMatch(/drover_swim_probes_total\{result="ok"\} [1-9]/);
    expect(text).toMatch(/drover_mesh_gossip_bytes_total\{direction="in"\} [1-9]/);
    expect(text).toMatch(/drover_mesh_sync_bytes_total\{[^}]*direction="out"[^}]*\} [1-9]/);
  });

  it('drops mesh traffic sealed with another key (a node without the key cannot join)', async () => {
    const port = await freeMeshPort();
    const intruder = await startGatewayProcess(['--mesh', '--mesh-port', String(port), '--mesh-seeds', seeds, '--mesh-key', randomBytes(32).toString('base64'), '--mesh-timings', 'local', '--node-name', 'intruder']);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const st = await json(`${nodes[0].url}/mesh/status`);
      expect(st.members.map((m: { name: string }) => m.name)).not.toContain('intruder');
    } finally {
      await intruder.stop('SIGKILL');
    }
  });
});

describe('a closed mesh: settings that would open it refuse to start', () => {
  const MAIN = join(__dirname, '../../dist/src/main.js');
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MAIN, '--port', '0', ...args], { env: { ...process.env, DROVER_ADMIN_KEY: 'x-admin', DROVER_MESH_KEY: '', ...env }, encoding: 'utf8', timeout: 20_000 });

  it('--mesh on a non-loopback bind without a key exits 2 and says how to fix it', () => {
    const r = run(['--mesh', '--mesh-bind', '0.0.0.0', '--mesh-advertise', '10.9.9.9']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--mesh on 0\.0\.0\.0 \(not loopback\) needs --mesh-key.*keygen.*--mesh-insecure/s);
  });

  it('mesh flags without --mesh, a passphrase and a known key are refused too', () => {
    const stray = run(['--mesh-seeds', '127.0.0.1:7946']);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('--mesh-seeds given without --mesh');
    const pass = run(['--mesh', '--mesh-key', 'change-me-compose-cluster-key']);
    expect(pass.status).toBe(2);
    expect(pass.stderr).toContain('is not a 32-byte key');
    const zero = run(['--mesh'], { DROVER_MESH_KEY: Buffer.alloc(32).toString('base64') });
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('known example or default key');
  });

  it('--mesh-insecure starts an open mesh and says so loudly', async () => {
    const port = await freeMeshPort();
    const gw = await startGatewayProcess(['--mesh', '--mesh-insecure', '--mesh-port', String(port), '--mesh-bind', '0.0.0.0', '--mesh-advertise', '127.0.0.1', '--mesh-timings', 'local'], { DROVER_MESH_KEY: '' });
    try {
      expect(gw.stderr()).toContain('INSECURE: mesh traffic on 0.0.0.0 is not authenticated');
      expect(gw.logs.some((l) => l.level === 40 && String(l.msg).includes('INSECURE'))).toBe(true);
    } finally {
      await gw.stop('SIGKILL');
    }
  });
});
