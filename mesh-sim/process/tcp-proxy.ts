import { connect, createServer, type Server, type Socket } from 'node:net';
import type { LinkFaults } from './link-faults';

export interface TcpProxyOptions {
  /** The node this proxy carries connections into. */
  node: string;
  /** What the proxy carries (for counters and logs): 'swim' push-pull or 'sync' gRPC. */
  kind: 'swim' | 'sync';
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  /** Which node opened the connection (see tcp-owner.ts). */
  senderOf: (socket: Socket) => string | 'closed' | undefined;
  faults: LinkFaults;
}

interface Conn {
  from: string | undefined;
  client: Socket;
  upstream: Socket;
  up: DelayedWriter;
  down: DelayedWriter;
}

/** Writes chunks to `dest` after a per-chunk delay, never out of order; `null` ends the stream. */
class DelayedWriter {
  private readonly queue: { at: number; chunk: Buffer | null }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(private readonly dest: Socket, private readonly delayOf: () => number) {}

  push(chunk: Buffer | null): void {
    const now = performance.now();
    const delay = this.delayOf();
    if (delay <= 0 && this.queue.length === 0) return this.write(chunk);
    const at = Math.max(this.last, now + delay);
    this.last = at;
    this.queue.push({ at, chunk });
    if (!this.timer) this.timer = setTimeout(() => this.pump(), Math.max(0, at - now));
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private pump(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].at <= now + 1) this.write(this.queue.shift()!.chunk);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), Math.max(0, this.queue[0].at - now));
  }

  private write(chunk: Buffer | null): void {
    if (this.dest.destroyed) return;
    if (chunk === null) this.dest.end();
    else this.dest.write(chunk);
  }
}

/**
 * TCP into one node's port (SWIM's push-pull stream path, or the gRPC state-sync port): each
 * accepted connection is attributed to the node that dialed it, refused with a reset while the
 * link is partitioned, else spliced to the node with the link's delay on every chunk in both
 * directions (in order). When a partition starts, every open connection that now crosses it is
 * reset; new ones are reset on accept until it heals.
 */
export class TcpProxy {
  private readonly conns = new Set<Conn>();
  private readonly unsubscribe: () => void;
  private closed = false;

  private constructor(private readonly server: Server, private readonly opts: TcpProxyOptions) {
    server.on('connection', (s) => this.accept(s));
    server.on('error', () => undefined);
    this.unsubscribe = opts.faults.onCut(() => this.cutCrossing());
  }

  static start(opts: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer({ allowHalfOpen: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.listenPort, opts.listenHost, () => {
        server.off('error', reject);
        resolve(new TcpProxy(server, opts));
      });
    });
  }

  get open(): number {
    return this.conns.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const c of this.conns) this.drop(c, false);
    this.server.close();
  }

  private accept(client: Socket): void {
    const { node, faults } = this.opts;
    if (this.closed) return void client.destroy();
    client.on('error', () => undefined);
    const sender = this.opts.senderOf(client);
    if (sender === 'closed') {
      faults.unidentified.tcp_closed++;
      return void client.destroy();
    }
    const from = sender;
    if (from === undefined) faults.unidentified.tcp++;
    else {
      faults.count(from, node).tcp_connections++;
      if (!faults.tcpAllowed(from, node)) {
        faults.count(from, node).tcp_refused++;
        try {
          client.resetAndDestroy();
        } catch {
          client.destroy();
        }
        return;
      }
    }
    const upstream = connect({ host: this.opts.targetHost, port: this.opts.targetPort, allowHalfOpen: true });
    upstream.on('error', () => undefined);
    const conn: Conn = {
      from,
      client,
      upstream,
      up: new DelayedWriter(upstream, () => (from ? faults.chunkDelay(from, node) : 0)),
      down: new DelayedWriter(client, () => (from ? faults.chunkDelay(node, from) : 0)),
    };
    this.conns.add(conn);
    client.on('data', (chunk: Buffer) => {
      if (from) faults.count(from, node).tcp_bytes += chunk.length;
      conn.up.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (from) faults.count(node, from).tcp_bytes += chunk.length;
      conn.down.push(chunk);
    });
    client.on('end', () => conn.up.push(null));
    upstream.on('end', () => conn.down.push(null));
    const finish = (hadError: boolean) => {
      if (hadError || (client.destroyed && upstream.destroyed)) this.drop(conn, hadError);
    };
    client.on('close', (hadError) => finish(hadError || upstream.destroyed));
    upstream.on('close', (hadError) => finish(hadError || client.destroyed));
  }

  /** A partition started: reset every connection whose two ends are now on different sides. */
  private cutCrossing(): void {
    for (const c of this.conns) {
      if (c.from && !this.opts.faults.tcpAllowed(c.from, this.opts.node)) {
        this.opts.faults.count(c.from, this.opts.node).tcp_reset++;
        this.drop(c, true);
      }
    }
  }

  private drop(c: Conn, reset: boolean): void {
    this.conns.delete(c);
    c.up.cancel();
    c.down.cancel();
    for (const s of [c.client, c.upstream]) {
      if (s.destroyed) continue;
      try {
        if (reset) s.resetAndDestroy();
        else s.destroy();
      } catch {
        s.destroy();
      }
    }
  }
}
