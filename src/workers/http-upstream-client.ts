import { Pool, type Dispatcher } from 'undici';
import { isEgressDenied } from '../egress/egress';
import { HttpUpstreamError, parseRetryAfter } from './http-upstream-error';
import { readBounded, readPrefix, UPSTREAM_LIMITS } from './bounded-body';

/** One model an upstream serves, as its `GET /v1/models` reports it. */
export interface UpstreamModel {
  id: string;
  /** vLLM's (and SGLang's) `max_model_len`, when reported. */
  maxModelLen: number | undefined;
}

export interface UpstreamHealth {
  healthy: boolean;
  message: string;
}

/** An upstream's answer as soon as its headers arrived; the body is the caller's to read or dump. */
export type UpstreamResponse = Dispatcher.ResponseData;

export interface HttpUpstreamClientOptions {
  /**
   * How sockets to the upstream are opened (undici's `connect`: TLS options or a connector
   * function), e.g. to connect only to an address an egress policy checked.
   */
  connect?: Pool.Options['connect'];
  /** Most sockets kept to this upstream at once (default: unbounded, as many as requests in flight). */
  connections?: number;
}

/** Idle keep-alive sockets are closed after this long (an engine's own keep-alive is usually longer). */
const KEEP_ALIVE_MS = 30_000;

/**
 * A client for one OpenAI-compatible HTTP server (vLLM, SGLang, or any other): model discovery,
 * health, and the raw POST the proxy streams back. One undici Pool per upstream keeps its
 * connections alive and reuses them across requests (no per-request connection setup, no fetch
 * and web-stream layers on the hot path). Timeouts are the caller's: every call carries an
 * AbortSignal, and undici's own header/body timeouts are off so a long generation is not cut.
 */
export class HttpUpstreamClient {
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(
    readonly baseUrl: string,
    options: HttpUpstreamClientOptions = {},
  ) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    // A base URL with a path prefix (http://host/engine-a) keeps it in front of every request path.
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.origin, {
      connections: options.connections ?? null,
      pipelining: 1,
      keepAliveTimeout: KEEP_ALIVE_MS,
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: options.connect,
    });
  }

  /** `GET /v1/models`; throws when unreachable, slow, non-2xx or not an OpenAI model list. */
  async listModels(timeoutMs: number): Promise<UpstreamModel[]> {
    // Aborted on a list over its bound too: destroying the body alone leaves the connection reading.
    const giveUp = new AbortController();
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), giveUp.signal]);
    const res = await this.get('/v1/models', signal);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw new HttpUpstreamError('status', `GET /v1/models answered HTTP ${res.statusCode}`, res.statusCode);
    }
    const body = (await readBounded(res.body, UPSTREAM_LIMITS.metadataBytes)
      .then((b) => JSON.parse(b.toString()) as unknown)
      .catch(() => {
        giveUp.abort();
        return undefined;
      })) as { data?: unknown } | undefined;
    if (!body || !Array.isArray(body.data)) throw new HttpUpstreamError('status', 'GET /v1/models did not return an OpenAI model list', res.statusCode);
    const out: UpstreamModel[] = [];
    for (const m of body.data as { id?: unknown; max_model_len?: unknown }[]) {
      if (typeof m?.id !== 'string' || m.id === '') continue;
      const len = typeof m.max_model_len === 'number' && Number.isInteger(m.max_model_len) && m.max_model_len > 0 ? m.max_model_len : undefined;
      out.push({ id: m.id, maxModelLen: len });
    }
    if (out.length === 0) throw new HttpUpstreamError('status', 'GET /v1/models lists no model', res.statusCode);
    return out;
  }

  /**
   * `GET /health` (2xx = healthy); servers without it (404) are asked `GET /v1/models` instead.
   * Answers that are not 2xx are unhealthy; unreachable or slow upstreams throw.
   */
  async health(timeoutMs: number): Promise<UpstreamHealth> {
    const signal = AbortSignal.timeout(timeoutMs);
    let res = await this.get('/health', signal);
    if (res.statusCode === 404) {
      await res.body.dump();
      res = await this.get('/v1/models', signal);
    }
    await res.body.dump();
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return ok ? { healthy: true, message: 'ok' } : { healthy: false, message: `health check answered HTTP ${res.statusCode}` };
  }

  /**
   * Sends a JSON POST and returns the response as soon as its headers arrive (the body is the
   * caller's to read or dump). `body` is sent as is: the client's original bytes when nothing in
   * them changes. HTTP error statuses are returned, not thrown; only transport failures throw, as
   * `connect` (or `timeout` when `signal` fired for a timeout reason).
   */
  async post(path: string, body: Buffer | string, headers: Record<string, string>, signal: AbortSignal): Promise<UpstreamResponse> {
    headers['content-type'] = 'application/json';
    headers.accept = 'application/json, text/event-stream';
    let res: UpstreamResponse;
    try {
      res = await this.pool.request({ method: 'POST', path: this.basePath + path, headers, body, signal });
    } catch (err) {
      throw transportError(err, signal, `POST ${path}`);
    }
    // Never followed, never passed on: a redirect could point the client (or us) at internal addresses.
    if (res.statusCode >= 300 && res.statusCode < 400) {
      await res.body.dump().catch(() => undefined);
      throw new HttpUpstreamError('connect', `POST ${path} answered a redirect (HTTP ${res.statusCode}); workers' redirects are not followed`);
    }
    return res;
  }

  /** Closes the idle connections and refuses new requests (the worker was removed or reconnected). */
  close(): void {
    void this.pool.close().catch(() => undefined);
  }

  private async get(path: string, signal: AbortSignal): Promise<UpstreamResponse> {
    try {
      return await this.pool.request({ method: 'GET', path: this.basePath + path, headers: { accept: 'application/json' }, signal });
    } catch (err) {
      throw transportError(err, signal, `GET ${path}`);
    }
  }
}

/** The transport error as the retry policy sees it: the abort reason, a timeout, or `connect` with the socket error's code. */
export function transportError(err: unknown, signal: AbortSignal, what: string): unknown {
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError') return new HttpUpstreamError('timeout', `${what} timed out`);
    // Anything else that aborted the signal (the client left, a TTFT timer) is the caller's to name.
    return reason ?? err;
  }
  if (isEgressDenied(err)) return new HttpUpstreamError('connect', `${what} refused: the worker's address is not allowed by the egress policy (--egress-allow-workers)`);
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.cause?.code ?? (e?.code?.startsWith('UND_ERR') ? undefined : e?.code);
  // The error code only: socket messages name internal addresses and ports, and can reach clients.
  return new HttpUpstreamError('connect', `${what} failed: ${code ?? 'connection error'}`);
}

/** A response header's value as one string (undici gives repeated headers as arrays). */
export function headerOf(res: UpstreamResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The HttpUpstreamError for an upstream's error answer (its body is read, bounded, for pass-through). */
export async function statusError(res: UpstreamResponse, now: number, maxBodyBytes: number = UPSTREAM_LIMITS.errorBytes): Promise<HttpUpstreamError> {
  let text = '';
  try {
    // Only the first bytes are read: an endless error body is not the gateway's to buffer.
    text = (await readPrefix(res.body, maxBodyBytes)).toString();
  } catch {
    // the body broke off; the status alone classifies the failure
  }
  return new HttpUpstreamError('status', `upstream answered HTTP ${res.statusCode}`, res.statusCode, parseRetryAfter(headerOf(res, 'retry-after') ?? null, now), text);
}
