import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/cluster';

// `npm run demo` as a user runs it: the compiled dist/src/demo.js as a child process, on a block
// of free ports (--base-port), stopped with SIGINT (Ctrl-C).
const DEMO = join(__dirname, '../../dist/src/demo.js');

const tcpFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
const udpFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });

/** A base port whose whole demo block is free: HTTP B..B+2, mesh B+10/20/30 (+1 each), workers B+100..B+103. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 3000) * 10;
    const tcp = [base, base + 1, base + 2, ...[0, 1, 2].flatMap((i) => [base + 10 + 10 * i, base + 11 + 10 * i]), ...[0, 1, 2, 3].map((i) => base + 100 + i)];
    const udp = [0, 1, 2].map((i) => base + 10 + 10 * i);
    let ok = true;
    for (const p of tcp) if (!(ok = await tcpFree(p))) break;
    for (const p of udp) if (ok && !(ok = await udpFree(p))) break;
    if (ok) return base;
  }
  throw new Error('no free port block for the demo');
}

/** Every live descendant of `root` (children, their children, ...), read from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== pid) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo', () => {
  let demo: ChildProcess | undefined;
  afterAll(() => {
    if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  });

  it('documents --base-port in --help', () => {
    const help = spawnSync(process.execPath, [DEMO, '--help'], { encoding: 'utf8', timeout: 15_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--base-port');
    expect(help.stdout).toContain('DROVER_DEMO_BASE_PORT');
  });

  it('starts 3 meshed nodes, serves a chat completion, and stops cleanly on SIGINT', async () => {
    const base = await freeBasePort();
    const child = spawn(process.execPath, [DEMO, '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
    demo = child;
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`demo exited with ${child.exitCode}: ${err}`);
      return out.includes('Ctrl-C to stop.');
    }, 60_000, `the demo's banner (stdout so far: ${out}; stderr: ${err})`);

    // It prints every node's URL on its port of the block, the dashboard and a curl.
    const nodes = [...out.matchAll(/^\s+node-(\d)\s+(http:\/\/\S+)$/gm)].map((m) => m[2]);
    expect(nodes).toEqual([0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`));
    expect(out).toContain(`${nodes[0]}/dashboard`);
    expect(out).toContain(`curl -s ${nodes[0]}/v1/chat/completions`);
    expect([...out.matchAll(/^\s+worker-\d\s+grpc:\/\/127\.0\.0\.1:(\d+)$/gm)].map((m) => Number(m[1]))).toEqual([0, 1, 2, 3].map((i) => base + 100 + i));

    // Whatever it started (none today: nodes and workers run in the demo process) is tracked.
    const pids = [child.pid!, ...descendants(child.pid!)];

    // Auth is on: the demo generated and printed a client key and an admin key; without one, 401.
    const clientKey = /^\s+client API key\s+(\S+)$/m.exec(out)?.[1];
    const adminKey = /^\s+admin key\s+(\S+)$/m.exec(out)?.[1];
    expect(clientKey).toBeTruthy();
    expect(adminKey).toBeTruthy();
    expect(out).toContain(`-H 'authorization: Bearer ${clientKey}'`);
    const anonymous = await fetch(`${nodes[1]}/v1/models`, { signal: AbortSignal.timeout(10_000) });
    expect(anonymous.status).toBe(401);
    const res = await fetch(`${nodes[1]}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 8 }),
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    expect(typeof body.choices[0].message.content).toBe('string');
    expect(body.usage.completion_tokens).toBeGreaterThan(0);

    let members: { name: string; state: string }[] = [];
    await waitFor(async () => {
      const status = (await (await fetch(`${nodes[2]}/mesh/status`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as { members: { name: string; state: string }[] };
      members = status.members;
      return members.filter((m) => m.state === 'alive').length === 3;
    }, 20_000, '3 alive members in /mesh/status');
    expect(members.map((m) => m.name).sort()).toEqual(['node-0', 'node-1', 'node-2']);

    pids.push(...descendants(child.pid!).filter((p) => !pids.includes(p)));
    child.kill('SIGINT');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`demo did not exit within 20 s of SIGINT: ${err}`)), 20_000));
    const { code, signal } = await Promise.race([exited, timeout]);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    // No orphan: every process it started is gone, and nothing holds the nodes' ports.
    await waitFor(() => pids.every((p) => !alive(p)), 5000, `processes ${pids.filter(alive).join(', ')} to exit`);
    for (const url of nodes) await expect(fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 120_000);
});
