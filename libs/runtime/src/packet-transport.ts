/**
 * The network as protocol cores see it: unreliable datagrams (UDP in production) plus a reliable
 * request/response path (a TCP stream in production) for bulk exchanges such as SWIM push-pull.
 * Everything is callback-based and synchronous from the core's side, so the same core runs on
 * real sockets and on the in-memory network in virtual time (ARCHITECTURE §3).
 *
 * Addresses are opaque strings, conventionally `host:port`.
 */
export type PacketHandler = (fromAddress: string, bytes: Uint8Array) => void;

/**
 * Answers one stream request synchronously. Return the reply bytes, or undefined to close the
 * stream without a reply (the requester then sees an error).
 */
export type RequestHandler = (fromAddress: string, bytes: Uint8Array) => Uint8Array | undefined;

/** Called exactly once per request: with the reply, or with an error (timeout, refused, closed). */
export type ReplyCallback = (error: Error | undefined, reply?: Uint8Array) => void;

export interface PacketTransport {
  /** The address peers reach this transport at (never a wildcard such as 0.0.0.0). */
  readonly localAddress: string;
  /** Best effort, fire and forget: the packet may be lost, delayed or reordered. Never throws. */
  send(toAddress: string, bytes: Uint8Array): void;
  /** Installs the (single) datagram handler. */
  onPacket(handler: PacketHandler): void;
  /** Reliable request/response: one request, at most one reply, within `timeoutMs`. */
  request(toAddress: string, bytes: Uint8Array, timeoutMs: number, callback: ReplyCallback): void;
  /** Installs the (single) handler that answers stream requests. */
  onRequest(handler: RequestHandler): void;
  /** Stops sending and receiving; pending requests fail. Idempotent. */
  close(): void;
}

/** Splits `host:port` (IPv6 hosts may be bracketed) into its parts; undefined if malformed. */
export function parseHostPort(address: string): { host: string; port: number } | undefined {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || host.length === 0) return undefined;
  return { host, port };
}

/** Joins a host and port, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
