import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Keyring } from '../keyring';
import { ChunkCollector, decodeStreamHeader, encodeStreamHeader, MAX_HEADER_BYTES, ReplyReader } from './stream-frames';
import {
  DroverError,
  formatHostPort,
  noopLogger,
  noopMetrics,
  type Metrics,
  parseHostPort,
  type Logger,
  type PacketHandler,
  type PacketTransport,
  type ReplyCallback,
  type RequestHandler,
} from '@drover/runtime';

export interface UdpTransportOptions {
  /** Interface to bind (may be a wildcard such as 0.0.0.0). */
  bindHost: string;
  /** Port for both UDP and the TCP stream path; 0 picks a free one. */
  bindPort: number;
  /** Host peers reach us at; required when binding a wildcard, and never a wildcard itself. */
  advertiseHost?: string;
  /** Defaults to the bound port (for NAT/port mapping set it explicitly). */
  advertisePort?: number;
  /** Largest stream frame accepted. */
  maxStreamBytes?: number;
  /**
   * Cluster key(s): stream request headers are sealed with their own subkey, so a connection that
   * cannot produce one is dropped after at most MAX_HEADER_BYTES. Without it headers are plain.
   */
  keyring?: Keyring;
  /** Limits on inbound stream connections (pre-authentication caps and deadlines). */
  streamLimits?: Partial<StreamLimits>;
  log?: Logger;
  metrics?: Metrics;
}

export interface StreamLimits {
  /** A connection must deliver an authentic header within this long of being accepted. */
  headerDeadlineMs: number;
  /** …and its whole request within this long (an absolute deadline, not an idle timeout). */
  requestDeadlineMs: number;
  /** Inbound stream connections open at once; more are closed on accept. */
  maxInboundConnections: number;
  /** Inbound stream connections open at once from one remote address. */
  maxConnectionsPerHost: number;
}

export const DEFAULT_STREAM_LIMITS: Readonly<StreamLimits> = Object.freeze({
  headerDeadlineMs: 2_000,
  requestDeadlineMs: 10_000,
  maxInboundConnections: 128,
  maxConnectionsPerHost: 16,
});

/** Stream traffic dropped before reaching SWIM, by reason (the same counter SWIM's drops use). */
const DROPPED = 'drover_mesh_dropped_messages_total';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);
const DEFAULT_MAX_STREAM_BYTES = 16 * 1024 * 1024;
const BIND_ATTEMPTS = 8;

/**
 * SWIM over real sockets: datagrams on UDP, push-pull on a TCP connection per request (to the
 * same port number). Stream frames (stream-frames.ts): request `[u16 n][authenticated header:
 * sender address, payload length][payload]`, reply `[u32 len][payload]`, then the server closes.
 * Before the header authenticates a connection may send at most MAX_HEADER_BYTES; every inbound
 * connection has absolute deadlines and counts against connection caps. Errors never escape a
 * handler.
 */
export class UdpTransport implements PacketTransport {
  private packetHandler: PacketHandler | undefined;
  private requestHandler: RequestHandler | undefined;
  private closed = false;
  private readonly openSockets = new Set<Socket>();
  private readonly inboundPerHost = new Map<string, number>();
  private inbound = 0;
  private readonly headerRing: Keyring | undefined;
  private readonly limits: StreamLimits;
  private readonly metrics: Metrics;

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly localAddress: string,
    readonly boundPort: number,
    private readonly maxStreamBytes: number,
    private readonly log: Logger,
    options: UdpTransportOptions,
  ) {
    this.headerRing = options.keyring?.withPurpose('stream-header');
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...options.streamLimits };
    this.metrics = options.metrics ?? noopMetrics;
    udp.on('message', (msg, rinfo) => {
      if (this.closed || !this.packetHandler) return;
      try {
        this.packetHandler(formatHostPort(rinfo.address, rinfo.port), msg);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'udp packet handler threw');
      }
    });
    udp.on('error', (err) => this.log.warn({ err: String(err) }, 'udp socket error'));
    tcp.on('connection', (socket) => this.serveStream(socket));
    tcp.on('error', (err) => this.log.warn({ err: String(err) }, 'tcp server error'));
  }

  /** Binds UDP and TCP on the same port and checks the advertised address. */
  static async create(options: UdpTransportOptions): Promise<UdpTransport> {
    const advertiseHost = options.advertiseHost ?? options.bindHost;
    if (WILDCARDS.has(advertiseHost)) {
      throw DroverError.invalidRequest(
        `refusing to advertise the wildcard address '${advertiseHost}': set advertiseHost to this host's reachable address`,
        'advertiseHost',
      );
    }
    const log = options.log ?? noopLogger;
    let lastError: unknown;
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      const family = options.bindHost.includes(':') ? 'udp6' : 'udp4';
      const udp = createSocket({ type: family, reuseAddr: false });
      try {
        const port = await bindUdp(udp, options.bindHost, options.bindPort);
        const tcp = await listenTcp(options.bindHost, port);
        const advertised = formatHostPort(advertiseHost, options.advertisePort ?? port);
        return new UdpTransport(udp, tcp, advertised, port, options.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES, log, options);
      } catch (err) {
        lastError = err;
        udp.close();
        // With an ephemeral port the TCP side may collide; try another port.
        if (options.bindPort !== 0) break;
      }
    }
    throw new DroverError('internal', `could not bind ${options.bindHost}:${options.bindPort}: ${String(lastError)}`, { cause: lastError });
  }

  send(toAddress: string, bytes: Uint8Array): void {
    if (this.closed) return;
    const target = parseHostPort(toAddress);
    if (!target) return;
    try {
      this.udp.send(bytes, target.port, target.host, () => {});
    } catch (err) {
      this.log.debug({ err: String(err), to: toAddress }, 'udp send failed');
    }
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  request(toAddress: string, bytes: Uint8Array, timeoutMs: number, callback: ReplyCallback): void {
    let settled = false;
    const settle = (err: Error | undefined, reply?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.openSockets.delete(socket);
      socket.destroy();
      try {
        callback(err, reply);
      } catch (cbErr) {
        this.log.warn({ err: String(cbErr) }, 'stream reply callback threw');
      }
    };
    const target = parseHostPort(toAddress);
    if (this.closed || !target) {
      queueMicrotask(() => callback(new Error(this.closed ? 'transport closed' : `bad address ${toAddress}`)));
      return;
    }
    const socket = connect({ host: target.host, port: target.port });
    this.openSockets.add(socket);
    const timer = setTimeout(() => settle(new Error(`stream request to ${toAddress} timed out`)), timeoutMs); // allow-wallclock: real-socket shell
    timer.unref();
    const header = encodeStreamHeader(this.headerRing, { from: this.localAddress, payloadBytes: bytes.length });
    socket.on('connect', () => {
      socket.write(header);
      socket.write(bytes);
    });
    const reader = new ReplyReader(this.maxStreamBytes);
    socket.on('data', (chunk: Buffer) => {
      const result = reader.push(chunk);
      if (result === 'too_large') settle(new Error('stream reply too large'));
      else if (result) settle(undefined, result);
    });
    socket.on('error', (err) => settle(err));
    socket.on('close', () => settle(new Error(`stream to ${toAddress} closed without a reply`)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.openSockets) s.destroy();
    this.openSockets.clear();
    this.udp.close();
    this.tcp.close();
  }

  private serveStream(socket: Socket): void {
    const host = socket.remoteAddress ?? '?';
    const fromHost = this.inboundPerHost.get(host) ?? 0;
    if (this.closed || this.inbound >= this.limits.maxInboundConnections || fromHost >= this.limits.maxConnectionsPerHost) {
      this.drop('connection_limit');
      socket.destroy();
      return;
    }
    this.inbound++;
    this.inboundPerHost.set(host, fromHost + 1);
    this.openSockets.add(socket);
    let done = false;
    const finish = (reason?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(headerTimer);
      clearTimeout(requestTimer);
      if (reason) {
        this.drop(reason);
        socket.destroy();
      }
    };
    socket.on('close', () => {
      finish();
      this.openSockets.delete(socket);
      this.inbound--;
      const left = (this.inboundPerHost.get(host) ?? 1) - 1;
      if (left > 0) this.inboundPerHost.set(host, left);
      else this.inboundPerHost.delete(host);
    });
    socket.on('error', () => socket.destroy());
    // Absolute deadlines from accept: a slow sender cannot stretch them by dribbling bytes.
    const headerTimer = setTimeout(() => finish('preauth_timeout'), this.limits.headerDeadlineMs); // allow-wallclock: real-socket shell
    const requestTimer = setTimeout(() => finish('stream_timeout'), this.limits.requestDeadlineMs); // allow-wallclock: real-socket shell
    headerTimer.unref();
    requestTimer.unref();

    const collector = new ChunkCollector();
    let headerBytes: number | undefined;
    let from: string | undefined;
    let payloadBytes = 0;
    socket.on('data', (data: Buffer) => {
      if (done) return;
      collector.push(data);
      if (from === undefined) {
        if (collector.length < 2) return;
        headerBytes ??= collector.peekUInt(2);
        if (headerBytes > MAX_HEADER_BYTES) return finish('preauth_oversize');
        if (collector.length < 2 + headerBytes) return;
        const opened = decodeStreamHeader(this.headerRing, collector.take(2 + headerBytes).head.subarray(2));
        if (!opened.ok) return finish(opened.reason);
        if (opened.header.payloadBytes > this.maxStreamBytes) return finish('oversize');
        from = opened.header.from;
        payloadBytes = opened.header.payloadBytes;
        clearTimeout(headerTimer);
      }
      if (collector.length < payloadBytes) return;
      if (collector.length > payloadBytes) return finish('malformed');
      const request = new Uint8Array(collector.take(payloadBytes).head);
      finish();
      let reply: Uint8Array | undefined;
      try {
        reply = this.closed ? undefined : this.requestHandler?.(from, request);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'stream request handler threw');
      }
      if (!reply) {
        socket.destroy();
        return;
      }
      const length = Buffer.alloc(4);
      length.writeUInt32BE(reply.length);
      socket.write(length);
      socket.end(reply);
      // The reply gets one more request deadline to drain, then the socket goes.
      setTimeout(() => socket.destroy(), this.limits.requestDeadlineMs).unref(); // allow-wallclock: real-socket shell
    });
  }

  private drop(reason: string): void {
    this.metrics.inc(DROPPED, { reason });
  }
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
