import { credentials, loadPackageDefinition, Server, ServerCredentials, status, type Client, type ClientDuplexStream, type ServerDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { noopLogger, noopMetrics, type Logger, type Metrics } from '@drover/runtime';
import type { Keyring, NodeIdentity } from '@drover/swim';
import { openSyncFrame, sealSyncFrame } from '../sync-envelope';
import type { SyncTransport } from '../sync-transport';

export interface GrpcSyncTransportOptions {
  nodeName: string;
  bindHost: string;
  /** 0 picks a free port. */
  bindPort: number;
  /** Host peers dial; required when binding a wildcard, never a wildcard itself. */
  advertiseHost?: string;
  keyring?: Keyring;
  /** This node's identity: frames are signed as this node, and peers' frames must be signed by the node they name. */
  identity?: NodeIdentity;
  /** Largest sync frame; both sides set their gRPC message limits from it. */
  maxFrameBytes: number;
  /** Limits on inbound sync streams (before and after authentication). */
  limits?: Partial<SyncStreamLimits>;
  /** Mutual TLS on top of the sealed frames (optional): both sides present certificates signed by `ca`. */
  tls?: MeshTlsOptions;
  log?: Logger;
  metrics?: Metrics;
}

export interface SyncStreamLimits {
  /** Inbound sync streams open at once; more are refused (RESOURCE_EXHAUSTED). */
  maxInboundStreams: number;
  /** …from one remote address (each peer keeps one stream to us, two while re-dialling; several nodes may share a host). */
  maxStreamsPerHost: number;
  /** A stream must deliver an authentic frame within this long of opening, or it is closed. */
  authDeadlineMs: number;
}

export const DEFAULT_SYNC_STREAM_LIMITS: Readonly<SyncStreamLimits> = Object.freeze({ maxInboundStreams: 256, maxStreamsPerHost: 32, authDeadlineMs: 10_000 });

/** Frames that fail these checks close their stream: the dialer is not (or not yet) a peer. */
const UNAUTHENTIC = new Set(['unauthenticated', 'decrypt_failed', 'bad_envelope', 'forged_sender', 'wrong_target', 'malformed']);

export interface MeshTlsOptions {
  /** PEM CA bundle that signs every node's certificate. */
  ca: Buffer;
  /** This node's PEM certificate chain and private key (served to dialers and presented when dialing). */
  cert: Buffer;
  key: Buffer;
  /**
   * Name checked against the peer's certificate instead of the dialed address (peers are dialed by
   * IP, while a mesh usually shares one certificate name, e.g. the headless service).
   */
  serverName?: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);
const FRAME_OVERHEAD = 1024;
const MAX_BACKOFF_MS = 10_000;
const CLOSE_GRACE_MS = 500;
/** Deadline of one sync stream; the sender re-dials when it expires (frames in between are retransmitted by the sync protocol). */
const STREAM_LIFETIME_MS = 10 * 60_000;

function protoDir(start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', 'mesh.proto'))) return join(dir, 'proto');
    if (dirname(dir) === dir) throw new Error(`proto/mesh.proto not found above ${start}`);
  }
}

let meshService: any;
function service(): any {
  meshService ??= (loadPackageDefinition(loadSync('mesh.proto', { includeDirs: [protoDir()], keepCase: true })) as any).drover.mesh.v1.MeshSync;
  return meshService;
}

/** With TLS the server demands a client certificate signed by the mesh CA (mutual TLS). */
function serverCredentials(tls: MeshTlsOptions | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

interface Outbound {
  client: Client & Record<string, any>;
  call: ClientDuplexStream<any, any> | undefined;
  address: string;
  failures: number;
  retryAt: number;
}

/**
 * State sync over gRPC: each node dials a long-lived `Sync` stream to every peer it sends to, and
 * receives its peers' frames on the streams they dial (so each direction has its own stream,
 * which keeps reconnects independent and free of dial races). Every frame is sealed with the
 * cluster key together with the sender's and receiver's names; anything that fails to open, or is
 * addressed to another node, is dropped and counted. Reconnects back off exponentially (capped,
 * with jitter); frames sent while a peer is unreachable are dropped — the sync protocol
 * retransmits what was not acknowledged.
 */
export class GrpcSyncTransport implements SyncTransport {
  private handler: ((peer: string, frame: Uint8Array) => void) | undefined;
  private readonly outbound = new Map<string, Outbound>();
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly maxMessage: number;
  /** Sync frames are sealed under their own subkey of the cluster key (not SWIM's). */
  private readonly keyring: Keyring | undefined;
  private readonly limits: SyncStreamLimits;
  private inbound = 0;
  private readonly inboundPerHost = new Map<string, number>();

  private constructor(private readonly server: Server, readonly localAddress: string, private readonly opts: GrpcSyncTransportOptions) {
    this.log = opts.log ?? noopLogger;
    this.keyring = opts.keyring?.withPurpose('sync-frame');
    this.limits = { ...DEFAULT_SYNC_STREAM_LIMITS, ...opts.limits };
    this.metrics = opts.metrics ?? noopMetrics;
    this.maxMessage = opts.maxFrameBytes + FRAME_OVERHEAD;
  }

  static async create(opts: GrpcSyncTransportOptions): Promise<GrpcSyncTransport> {
    const advertise = opts.advertiseHost ?? opts.bindHost;
    if (WILDCARDS.has(advertise)) throw new Error(`refusing to advertise '${advertise}' for mesh sync: set an advertise address peers can reach`);
    const max = opts.maxFrameBytes + FRAME_OVERHEAD;
    const server = new Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max, 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_permit_without_calls': 1 });
    // The handler is registered before the transport exists (it needs the bound port).
    const ref: { transport?: GrpcSyncTransport } = {};
    server.addService(service().service, { Sync: (call: ServerDuplexStream<any, any>) => ref.transport?.accept(call) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${opts.bindHost.includes(':') ? `[${opts.bindHost}]` : opts.bindHost}:${opts.bindPort}`, serverCredentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p))),
    );
    ref.transport = new GrpcSyncTransport(server, `${advertise}:${port}`, opts);
    return ref.transport;
  }

  onFrame(handler: (peer: string, frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  send(peerName: string, peerAddress: string, frame: Uint8Array): void {
    const out = this.connection(peerName, peerAddress);
    if (!out.call) return;
    const sealed = sealSyncFrame(this.keyring, this.opts.nodeName, peerName, frame, this.opts.identity);
    this.metrics.inc('drover_mesh_sync_bytes_total', { kind: 'frame', direction: 'out' }, sealed.length);
    out.call.write({ sealed });
  }

  disconnect(peerName: string): void {
    const out = this.outbound.get(peerName);
    if (!out) return;
    this.outbound.delete(peerName);
    out.call?.end();
    out.client.close();
  }

  async close(): Promise<void> {
    for (const name of [...this.outbound.keys()]) this.disconnect(name);
    // Peers' inbound streams would hold a graceful shutdown open until they close their end
    // (keepalive can take 10 s): give them a moment, then cut them.
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { // allow-wallclock: real-socket shell
        this.server.forceShutdown();
        resolve();
      }, CLOSE_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private connection(peerName: string, address: string): Outbound {
    let out = this.outbound.get(peerName);
    if (out && out.address !== address) {
      this.disconnect(peerName);
      out = undefined;
    }
    if (!out) {
      const Ctor = service();
      const tls = this.opts.tls;
      const client = new Ctor(address, tls ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createInsecure(), {
        ...(tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {}),
        'grpc.max_receive_message_length': this.maxMessage,
        'grpc.max_send_message_length': this.maxMessage,
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.initial_reconnect_backoff_ms': 200,
        'grpc.max_reconnect_backoff_ms': MAX_BACKOFF_MS,
      });
      out = { client, call: undefined, address, failures: 0, retryAt: 0 };
      this.outbound.set(peerName, out);
    }
    if (!out.call && Date.now() >= out.retryAt) this.dial(peerName, out); // allow-wallclock: real-socket shell
    return out;
  }

  private dial(peerName: string, out: Outbound): void {
    // Every call has a deadline, this long-lived stream too: it is re-dialled when it expires, so a
    // stream silently wedged on a half-open connection cannot outlive it.
    const call: ClientDuplexStream<any, any> = out.client.Sync({ deadline: Date.now() + STREAM_LIFETIME_MS }); // allow-wallclock: real-socket shell
    out.call = call;
    const onDown = (err?: Error & { code?: number }) => {
      if (out.call !== call) return;
      out.call = undefined;
      if (err?.code === status.DEADLINE_EXCEEDED) {
        out.retryAt = 0; // a planned expiry, not a failure: re-dial on the next frame
        return;
      }
      out.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(out.failures, 7));
      out.retryAt = Date.now() + backoff / 2 + Math.random() * (backoff / 2); // allow-wallclock: reconnect jitter on real sockets
      if (err) this.log.debug({ peer: peerName, err: err.message }, 'mesh sync stream down');
    };
    call.on('data', () => undefined);
    call.on('error', onDown);
    call.on('end', () => onDown());
    call.on('status', () => undefined);
    // A stream that carried a frame is healthy again.
    call.once('metadata', () => (out.failures = 0));
  }

  private accept(call: ServerDuplexStream<any, any>): void {
    const host = hostOf(call.getPeer());
    const fromHost = this.inboundPerHost.get(host) ?? 0;
    if (this.inbound >= this.limits.maxInboundStreams || fromHost >= this.limits.maxStreamsPerHost) {
      this.drop('connection_limit');
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: 'too many mesh sync streams' });
      return;
    }
    this.inbound++;
    this.inboundPerHost.set(host, fromHost + 1);
    let closed = false;
    let authenticated = false;
    const release = () => {
      if (closed) return;
      closed = true;
      clearTimeout(deadline);
      this.inbound--;
      const left = (this.inboundPerHost.get(host) ?? 1) - 1;
      if (left > 0) this.inboundPerHost.set(host, left);
      else this.inboundPerHost.delete(host);
    };
    const refuse = (reason: string) => {
      this.drop(reason);
      if (closed) return;
      release();
      call.emit('error', { code: status.UNAUTHENTICATED, details: 'mesh sync refused' });
    };
    // A stream that never authenticates is closed: it cannot sit on a slot for free.
    const deadline = setTimeout(() => !authenticated && refuse('preauth_timeout'), this.limits.authDeadlineMs); // allow-wallclock: real-socket shell
    deadline.unref();
    call.on('data', (msg: { sealed?: Uint8Array }) => {
      if (closed) return;
      const bytes = msg?.sealed;
      if (!bytes || bytes.length === 0) return refuse('malformed');
      this.metrics.inc('drover_mesh_sync_bytes_total', { kind: 'frame', direction: 'in' }, bytes.length);
      const parsed = openSyncFrame(this.keyring, bytes, this.opts.nodeName, this.opts.identity);
      if (!parsed.ok) return UNAUTHENTIC.has(parsed.reason) ? refuse(parsed.reason) : this.drop(parsed.reason);
      authenticated = true;
      try {
        this.handler?.(parsed.from, parsed.frame);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'mesh sync handler threw');
        this.drop('handler_error');
      }
    });
    call.on('error', release);
    call.on('close', release);
    call.on('finish', release);
    call.on('end', () => {
      release();
      call.end();
    });
  }

  private drop(reason: string): void {
    this.metrics.inc('drover_mesh_dropped_messages_total', { reason });
  }
}

/** The address part of a gRPC peer string (`ipv4:1.2.3.4:5`, `ipv6:[::1]:5`). */
function hostOf(peer: string): string {
  const body = peer.replace(/^ipv[46]:/, '');
  const i = body.lastIndexOf(':');
  return i > 0 ? body.slice(0, i) : body;
}
