import { createSocket, type Socket } from 'node:dgram';
import type { LinkFaults } from './link-faults';

export interface UdpProxyOptions {
  /** The node whose inbound SWIM datagrams this proxy carries. */
  node: string;
  /** Where peers send (the node's advertised address): a loopback IP and port. */
  listenHost: string;
  listenPort: number;
  /** Where the node really listens. */
  targetHost: string;
  targetPort: number;
  /** Which node sent a datagram, from its source IP (each node binds its own loopback IP). */
  senderOf: (host: string, port: number) => string | undefined;
  faults: LinkFaults;
}

/**
 * SWIM datagrams into one node: each is attributed to its sender by source address, then dropped
 * (partition, seeded loss) or forwarded to the node after the link's delay and jitter. SWIM reads
 * the reply address from the message, never from the datagram's source, so one forwarding socket
 * (the listening one) is enough: the node's answers go to the sender's own proxy.
 */
export class UdpProxy {
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(private readonly socket: Socket, private readonly opts: UdpProxyOptions) {
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
  }

  static start(opts: UdpProxyOptions): Promise<UdpProxy> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.listenPort, opts.listenHost, () => {
        socket.off('error', reject);
        resolve(new UdpProxy(socket, opts));
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.socket.close();
  }

  private onMessage(msg: Buffer, host: string, port: number): void {
    if (this.closed) return;
    const from = this.opts.senderOf(host, port);
    if (!from) {
      this.opts.faults.unidentified.udp++;
      this.forward(msg);
      return;
    }
    const d = this.opts.faults.datagram(from, this.opts.node);
    if (d.drop) return;
    if (d.delayMs <= 0) return this.forward(msg);
    const t = setTimeout(() => {
      this.pending.delete(t);
      this.forward(msg);
    }, d.delayMs);
    this.pending.add(t);
  }

  private forward(msg: Buffer): void {
    if (this.closed) return;
    try {
      this.socket.send(msg, this.opts.targetPort, this.opts.targetHost, () => undefined);
    } catch {
      // the socket closed meanwhile
    }
  }
}
