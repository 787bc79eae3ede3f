import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Fault } from '../faults';
import { LinkFaults, type LinkCounters } from './link-faults';
import { TcpProxy } from './tcp-proxy';
import { tcpOwnerPid } from './tcp-owner';
import { UdpProxy } from './udp-proxy';

/**
 * The loopback network of a process-mode run. Node K gets two loopback IPs of its own:
 *   real   127.77.1.(K+1)  what the gateway binds (--mesh-bind): SWIM UDP+TCP on P, sync gRPC on P+1
 *   proxy  127.77.0.(K+1)  what it advertises (--mesh-advertise) and what seeds name
 * and mesh-sim's proxies listen on the proxy IP (UDP P, TCP P, TCP P+1) and forward to the real
 * one. A gateway learns every peer address from SWIM (its advertised address and the sync address
 * in its metadata), so all of them are proxy addresses: every byte between two gateways crosses
 * the proxy of the receiving node, which attributes it to its sender (UDP: the sender's own source
 * IP; TCP: the process owning the client socket, see tcp-owner.ts) and applies the faults of that
 * directed link. No gateway flag or code is changed; only the addresses differ.
 */
export interface NodeAddress {
  name: string;
  realHost: string;
  proxyHost: string;
  port: number;
}

const REAL = (k: number) => `127.77.1.${k + 1}`;
const PROXY = (k: number) => `127.77.0.${k + 1}`;

export interface NetSnapshot {
  links: Record<string, LinkCounters>;
  total: LinkCounters;
  unidentified: { udp: number; tcp: number; tcp_closed: number };
  open_tcp: number;
  /** Time spent attributing TCP connections to their sender (/proc lookups), total and worst. */
  attribution_ms: { total: number; max: number };
}

export class MeshNet {
  readonly faults: LinkFaults;
  private readonly pids = new Map<number, string>();
  private readonly udp: UdpProxy[] = [];
  private readonly tcp: TcpProxy[] = [];
  private readonly byRealHost = new Map<string, string>();
  private readonly attribution = { total: 0, max: 0 };

  private constructor(readonly nodes: NodeAddress[], seed: string) {
    this.faults = new LinkFaults(seed);
    for (const n of nodes) this.byRealHost.set(n.realHost, n.name);
  }

  /** Addresses and proxies for `slots` nodes (node-0..node-(slots−1), joiners included). */
  static async create(slots: number, seed: string): Promise<MeshNet> {
    if (slots > 200) throw new Error('too many nodes for the 127.77.0.0/16 plan');
    if (!(await udpTcpFree(PROXY(0), 0)).ok) {
      throw new Error('process mode needs all of 127.0.0.0/8 on loopback (Linux has it; elsewhere add 127.77.0.x/127.77.1.x aliases)');
    }
    const nodes: NodeAddress[] = [];
    for (let k = 0; k < slots; k++) nodes.push({ name: `node-${k}`, realHost: REAL(k), proxyHost: PROXY(k), port: await pickPort(REAL(k), PROXY(k)) });
    const net = new MeshNet(nodes, seed);
    try {
      for (const n of nodes) {
        net.udp.push(await UdpProxy.start({ node: n.name, listenHost: n.proxyHost, listenPort: n.port, targetHost: n.realHost, targetPort: n.port, senderOf: (h) => net.byRealHost.get(h), faults: net.faults }));
        for (const [kind, port] of [['swim', n.port], ['sync', n.port + 1]] as const) {
          net.tcp.push(await TcpProxy.start({ node: n.name, kind, listenHost: n.proxyHost, listenPort: port, targetHost: n.realHost, targetPort: port, senderOf: (s) => net.tcpSender(s), faults: net.faults }));
        }
      }
    } catch (err) {
      net.close();
      throw err;
    }
    return net;
  }

  /** Gateway flags that bind the real address and advertise the proxy one. */
  meshArgs(name: string, seedNodes: readonly string[]): string[] {
    const n = this.node(name);
    const seeds = seedNodes.map((s) => `${this.node(s).proxyHost}:${this.node(s).port}`).join(',');
    return ['--mesh-bind', n.realHost, '--mesh-advertise', n.proxyHost, '--mesh-port', String(n.port), '--mesh-sync-port', String(n.port + 1), '--mesh-seeds', seeds];
  }

  /** Which node a process is (for attributing its TCP connections); call on every (re)start. */
  setPid(name: string, pid: number | undefined): void {
    for (const [p, n] of this.pids) if (n === name) this.pids.delete(p);
    if (pid !== undefined) this.pids.set(pid, name);
  }

  isProxyAddress(address: string): boolean {
    return this.nodes.some((n) => address === `${n.proxyHost}:${n.port}` || address === `${n.proxyHost}:${n.port + 1}`);
  }

  /** Turns a network fault into link rules; returns a function that heals it. */
  inject(f: Extract<Fault, { kind: 'partition' | 'loss' | 'delay' }>): () => void {
    let id: number;
    if (f.kind === 'partition') {
      const [a, b] = f.groups.map((g) => new Set(g));
      id = this.faults.add({ partition: true, covers: (from, to) => (a.has(from) && b.has(to)) || (b.has(from) && a.has(to)) });
    } else {
      const covers = (from: string, to: string) => !f.target || from === f.target || to === f.target;
      id = f.kind === 'loss' ? this.faults.add({ loss: f.rate, covers }) : this.faults.add({ delayMs: f.meanMs, jitterMs: f.jitterMs, covers });
    }
    return () => this.faults.remove(id);
  }

  snapshot(): NetSnapshot {
    const r = (x: number) => Math.round(x * 10) / 10;
    return { ...this.faults.snapshot(), open_tcp: this.tcp.reduce((s, p) => s + p.open, 0), attribution_ms: { total: r(this.attribution.total), max: r(this.attribution.max) } };
  }

  close(): void {
    this.faults.clear();
    for (const p of this.udp) p.close();
    for (const p of this.tcp) p.close();
  }

  private node(name: string): NodeAddress {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no address for ${name}`);
    return n;
  }

  private tcpSender(s: import('node:net').Socket): string | 'closed' | undefined {
    if (!s.remoteAddress || !s.remotePort || !s.localAddress || !s.localPort) return 'closed';
    const t0 = performance.now();
    const owner = tcpOwnerPid(s.remoteAddress, s.remotePort, s.localAddress, s.localPort, [...this.pids.keys()]);
    const ms = performance.now() - t0;
    this.attribution.total += ms;
    this.attribution.max = Math.max(this.attribution.max, ms);
    return typeof owner === 'number' ? this.pids.get(owner) : owner;
  }
}

async function pickPort(...hosts: string[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (const h of hosts) {
      if (!(await udpTcpFree(h, port)).ok || !(await tcpFree(h, port + 1))) {
        ok = false;
        break;
      }
    }
    if (ok) return port;
  }
  throw new Error(`no free port pair on ${hosts.join(', ')}`);
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const tcp = createServer();
    tcp.once('error', () => resolve(false));
    tcp.listen(port, host, () => tcp.close(() => resolve(true)));
  });
}

function udpTcpFree(host: string, port: number): Promise<{ ok: boolean }> {
  return new Promise((resolve) => {
    const udp = createSocket('udp4');
    udp.once('error', () => resolve({ ok: false }));
    udp.bind(port, host, () => {
      const bound = udp.address().port;
      const tcp = createServer();
      tcp.once('error', () => udp.close(() => resolve({ ok: false })));
      tcp.listen(bound, host, () => tcp.close(() => udp.close(() => resolve({ ok: true }))));
    });
  });
}
