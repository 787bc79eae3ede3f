import { STATUS_CODES, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { DroverError } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import { errorBodyFor } from '../errors/send-error';
import { statusOf } from '../errors/error-body';

/**
 * Bounds on the client port, so a client cannot hold a socket, or the node's memory, for as long
 * as it likes:
 * - `--header-timeout-ms`: the request's headers must arrive within it (slowloris);
 * - `--body-timeout-ms`: the whole request, headers and body, must arrive within it (a body sent
 *   slowly or never finished). Only receiving is bounded: a long generation after the body arrived
 *   is bounded by --request-timeout-ms instead;
 * - `--keep-alive-timeout-ms`: an idle keep-alive connection is closed after it;
 * - `--max-request-bytes`: larger bodies are refused with 413 before they are read (or as soon
 *   as they pass the limit when sent chunked); headers over Node's 16 KiB get 431.
 * Node enforces the first two by checking its connections periodically; the check runs often
 * enough (a quarter of the shorter timeout, at most once a second) that a cut comes close to the
 * configured time rather than up to Node's default 30 s later.
 */
export type ClientPortOptions = Pick<FastifyServerOptions, 'bodyLimit' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout' | 'clientErrorHandler' | 'frameworkErrors'> & { http: ServerOptions };

export function clientPortOptions(config: GatewayConfig): ClientPortOptions {
  // Node refuses a headers timeout longer than the whole-request timeout.
  const headersTimeout = Math.min(config.headerTimeoutMs, config.bodyTimeoutMs);
  return {
    bodyLimit: config.maxRequestBytes,
    requestTimeout: config.bodyTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // No socket inactivity timeout: a non-streaming request waits silently for its whole
    // generation (bounded by --request-timeout-ms), which an idle cut would break.
    connectionTimeout: 0,
    http: {
      headersTimeout,
      requestTimeout: config.bodyTimeoutMs,
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    clientErrorHandler: (err, socket) => answerClientError(err, socket, config),
    // Errors Fastify raises before any route runs (a URL that does not decode).
    frameworkErrors: (err: { message?: string }, req: FastifyRequest, reply: FastifyReply) => {
      const e = new DroverError('invalid_request', 'The request URL is not valid.');
      void reply.code(statusOf(e)).header('content-type', 'application/json').send(errorBodyFor(req.url, e));
    },
  };
}

/**
 * Errors Node raises on a connection before (or while) a request is read: a timeout, headers too
 * large, a malformed request. Answered in the API's JSON error shape when nothing has been sent on
 * the connection yet, then the connection is closed (its state is unknown).
 */
function answerClientError(err: Error & { code?: string }, socket: Socket, config: GatewayConfig): void {
  // Node reports every later parse failure on the same socket too: one answer per connection.
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  const response = (socket as { _httpMessage?: { headersSent?: boolean; req?: { url?: string } } })._httpMessage;
  if (!socket.writable || response?.headersSent) return void socket.destroy();
  const e = clientErrorOf(err, config);
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : statusOf(e);
  const body = JSON.stringify(errorBodyFor(response?.req?.url ?? requestTarget(err), e));
  const answer = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  if (!err.code?.startsWith('HPE_')) {
    socket.write(answer);
    return void socket.destroy();
  }
  // A client still sending (headers too large) would have its connection reset by a close with
  // unread bytes, and the answer lost with it: answer, half-close, and read (discarding) what it
  // still sends for a moment before closing (a lingering close).
  socket.end(answer);
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

const answered = new WeakSet<Socket>();
const LINGER_MS = 1000;

/**
 * The request target from the bytes Node could not parse (`rawPacket` of an HPE_* error, e.g.
 * headers too large), so the answer takes the API's shape even before a request object exists.
 */
function requestTarget(err: Error & { rawPacket?: Buffer }): string | undefined {
  const line = err.rawPacket?.subarray(0, 2048).toString('latin1');
  return line ? /^[A-Z]+ (\S+) HTTP\//.exec(line)?.[1] : undefined;
}

function clientErrorOf(err: Error & { code?: string }, config: GatewayConfig): DroverError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new DroverError('request_timeout', `The request was not received in time: headers must arrive within ${Math.min(config.headerTimeoutMs, config.bodyTimeoutMs)} ms and the whole request within ${config.bodyTimeoutMs} ms.`);
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return new DroverError('invalid_request', 'The request headers are too large.');
  return new DroverError('invalid_request', 'The request could not be parsed as HTTP.');
}
