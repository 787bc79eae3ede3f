import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkFaults } from './link-faults';
import { MeshNet } from './mesh-net';
import { procAddress } from './tcp-owner';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  const s = createSocket('udp4');
  cleanups.push(() => s.close());
  return new Promise((resolve) => s.bind(port, host, () => resolve(s)));
}

/** A child process standing in for a gateway: connects to `host:port`, sends lines, prints what comes back. */
function dialer(host: string, port: number, script: string): ChildProcess {
  const code = `const s = require('node:net').connect(${port}, '${host}'); s.setEncoding('utf8'); let got = '';
    s.on('data', (d) => { got += d; process.stdout.write(d); });
    s.on('error', (e) => { console.log('ERR ' + e.code); });
    s.on('close', () => { console.log('CLOSED'); process.exit(0); });
    ${script}
    setTimeout(() => process.exit(0), 8000);`;
  const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => c.kill('SIGKILL'));
  return c;
}

function output(c: ChildProcess): { text: () => string } {
  let text = '';
  c.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text };
}

async function echoServer(host: string, port: number): Promise<Server> {
  const srv = createServer((s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  cleanups.push(() => srv.close());
  await new Promise<void>((r) => srv.listen(port, host, r));
  return srv;
}

describe('mesh-sim link faults', () => {
  it('drops a seeded share of datagrams, the same for the same seed', () => {
    const run = (seed: string) => {
      const f = new LinkFaults(seed);
      f.add({ loss: 0.3, covers: () => true });
      return Array.from({ length: 1000 }, () => f.datagram('node-0', 'node-1').drop);
    };
    const a = run('7');
    expect(run('7')).toEqual(a);
    expect(run('8')).not.toEqual(a);
    const lost = a.filter((d) => d === 'loss').length;
    expect(lost).toBeGreaterThan(240);
    expect(lost).toBeLessThan(360);
  });

  it('layers rules: a partition of one pair leaves the others; delay stays within mean ± jitter', () => {
    const f = new LinkFaults('1');
    const cut = f.add({ partition: true, covers: (a, b) => a === 'node-0' && b === 'node-1' });
    f.add({ delayMs: 50, jitterMs: 20, covers: () => true });
    expect(f.datagram('node-0', 'node-1').drop).toBe('partition');
    expect(f.datagram('node-1', 'node-0').drop).toBeUndefined();
    expect(f.tcpAllowed('node-1', 'node-0')).toBe(false); // a TCP connection needs both directions
    for (let i = 0; i < 200; i++) {
      const d = f.chunkDelay('node-2', 'node-3');
      expect(d).toBeGreaterThanOrEqual(30);
      expect(d).toBeLessThanOrEqual(70);
    }
    f.remove(cut);
    expect(f.datagram('node-0', 'node-1').drop).toBeUndefined();
    expect(f.snapshot().links['node-0>node-1']).toMatchObject({ udp_partitioned: 1, udp_forwarded: 1 });
  });

  it('formats /proc/net/tcp addresses', () => {
    expect(procAddress('127.0.0.1', 3306)).toBe('0100007F:0CEA');
    expect(procAddress('::ffff:127.77.0.2', 80)).toBe('02004D7F:0050');
  });
});

describe('mesh-sim fault proxy (loopback sockets)', () => {
  it('routes UDP through the receiving node\'s proxy, attributed by source IP, with loss and partition', async () => {
    const net = await MeshNet.create(2, 'udp');
    cleanups.push(() => net.close());
    const [a, b] = net.nodes;
    const received: string[] = [];
    const target = await bindUdp(b.realHost, b.port);
    target.on('message', (m) => received.push(m.toString()));
    const sender = await bindUdp(a.realHost, a.port);
    const send = async (n: number, tag: string) => {
      for (let i = 0; i < n; i++) sender.send(`${tag}${i}`, b.port, b.proxyHost);
      await sleep(300);
    };
    await send(20, 'clear');
    expect(received.length).toBe(20);
    const loss = net.inject({ kind: 'loss', rate: 0.5, fromMs: 0, toMs: Infinity });
    await send(200, 'lossy');
    const lossy = received.filter((m) => m.startsWith('lossy')).length;
    expect(lossy).toBeGreaterThan(60);
    expect(lossy).toBeLessThan(140);
    loss();
    const heal = net.inject({ kind: 'partition', groups: [['node-0'], ['node-1']], fromMs: 0, toMs: 1 });
    await send(20, 'cut');
    expect(received.filter((m) => m.startsWith('cut'))).toEqual([]);
    heal();
    await send(5, 'healed');
    expect(received.filter((m) => m.startsWith('healed')).length).toBe(5);
    const link = net.snapshot().links['node-0>node-1'];
    expect(link.udp_forwarded).toBe(received.length);
    expect(link.udp_lost).toBe(200 - lossy);
    expect(link.udp_partitioned).toBe(20);
    expect(net.snapshot().unidentified.udp).toBe(0);
  });

  it('delays datagrams by mean ± jitter', async () => {
    const net = await MeshNet.create(2, 'delay');
    cleanups.push(() => net.close());
    const [a, b] = net.nodes;
    const arrivals: number[] = [];
    const target = await bindUdp(b.realHost, b.port);
    target.on('message', () => arrivals.push(performance.now()));
    const sender = await bindUdp(a.realHost, a.port);
    net.inject({ kind: 'delay', meanMs: 150, jitterMs: 50, target: 'node-1', fromMs: 0, toMs: Infinity });
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) sender.send('x', b.port, b.proxyHost);
    await sleep(500);
    expect(arrivals.length).toBe(10);
    for (const t of arrivals) expect(t - t0).toBeGreaterThanOrEqual(95);
    for (const t of arrivals) expect(t - t0).toBeLessThan(400);
  });

  it('attributes TCP connections to the process that dialed, keeps chunks in order under jitter, resets them on a partition and refuses new ones until healed', async () => {
    const net = await MeshNet.create(2, 'tcp');
    cleanups.push(() => net.close());
    const [, b] = net.nodes;
    await echoServer(b.realHost, b.port + 1);
    net.inject({ kind: 'delay', meanMs: 20, jitterMs: 20, fromMs: 0, toMs: Infinity });
    // node-0 sends 30 numbered chunks; they come back through both directions of the proxy in order.
    const first = dialer(b.proxyHost, b.port + 1, `let i = 0; const t = setInterval(() => { s.write(String(i++).padStart(3, '0')); if (i === 30) clearInterval(t); }, 5);`);
    net.setPid('node-0', first.pid);
    const out = output(first);
    for (let i = 0; i < 50 && out.text().length < 90; i++) await sleep(100);
    expect(out.text().slice(0, 90)).toBe(Array.from({ length: 30 }, (_, i) => String(i).padStart(3, '0')).join(''));
    expect(net.snapshot().links['node-0>node-1']).toMatchObject({ tcp_connections: 1, tcp_bytes: 90 });
    expect(net.snapshot().links['node-1>node-0'].tcp_bytes).toBe(90);
    // A partition resets the open connection...
    net.inject({ kind: 'partition', groups: [['node-0'], ['node-1']], fromMs: 0, toMs: 1 });
    for (let i = 0; i < 30 && !out.text().includes('CLOSED'); i++) await sleep(100);
    expect(out.text()).toMatch(/ERR ECONNRESET|CLOSED/);
    // ...and a new one is refused with a reset.
    const second = dialer(b.proxyHost, b.port + 1, `s.on('connect', () => s.write('hello'));`);
    net.setPid('node-0', second.pid);
    const out2 = output(second);
    for (let i = 0; i < 30 && !out2.text().includes('CLOSED'); i++) await sleep(100);
    expect(out2.text()).not.toContain('hello');
    expect(net.snapshot().links['node-0>node-1']).toMatchObject({ tcp_reset: 1, tcp_refused: 1 });
    expect(net.snapshot().unidentified.tcp).toBe(0);
  }, 20_000);
});
