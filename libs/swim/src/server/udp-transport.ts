import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  DroverError,
  formatHostPort,
  noopLogger,
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
  log?: Logger;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);
const DEFAULT_MAX_STREAM_BYTES = 16 * 1024 * 1024;
const BIND_ATTEMPTS = 8;

/**
 * SWIM over real sockets: datagrams on UDP, push-pull on a TCP connection per request (to the
 * same port number). Stream frames: request `[u8 n][sender address, n bytes][u32 len][payload]`,
 * reply `[u32 len][payload]`, then the server closes. Errors never escape a handler.
 */
export class UdpTransport implements PacketTransport {
  private packetHandler: PacketHandler | undefined;
  private requestHandler: RequestHandler | undefined;
  private closed = false;
  private readonly openSockets = new Set<Socket>();

  private constructor(
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly localAddress: string,
    readonly boundPort: number,
    private readonly maxStreamBytes: number,
    private readonly log: Logger,
  ) {
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
        return new UdpTransport(udp, tcp, advertised, port, options.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES, log);
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
    const from = Buffer.from(this.localAddress);
    const header = Buffer.alloc(1 + from.length + 4);
    header[0] = from.length;
    from.copy(header, 1);
    header.writeUInt32BE(bytes.length, 1 + from.length);
    socket.on('connect', () => {
      socket.write(header);
      socket.write(bytes);
    });
    const reader = new FrameReader(this.maxStreamBytes);
    socket.on('data', (chunk) => {
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
    this.openSockets.add(socket);
    socket.setTimeout(30_000, () => socket.destroy());
    socket.on('close', () => this.openSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let fromLength: number | undefined;
    let from = '';
    let pending: Buffer = Buffer.alloc(0);
    const reader = new FrameReader(this.maxStreamBytes);
    socket.on('data', (data: Buffer) => {
      let chunk: Buffer = data;
      if (fromLength === undefined) {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 1 || pending.length < 1 + pending[0]) return;
        fromLength = pending[0];
        from = pending.subarray(1, 1 + fromLength).toString();
        chunk = pending.subarray(1 + fromLength);
      }
      const request = reader.push(chunk);
      if (request === 'too_large') {
        socket.destroy();
        return;
      }
      if (!request) return;
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
    });
  }
}

/** Accumulates `[u32 len][payload]`; returns the payload once complete. */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): Uint8Array | 'too_large' | undefined {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length < 4) return undefined;
    const length = this.buffer.readUInt32BE(0);
    if (length > this.maxBytes) return 'too_large';
    if (this.buffer.length < 4 + length) return undefined;
    return new Uint8Array(this.buffer.subarray(4, 4 + length));
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
