import { HttpUpstreamError, parseRetryAfter } from './http-upstream-error';

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

/**
 * A client for one OpenAI-compatible HTTP server (vLLM, SGLang, or any other): model discovery,
 * health, and the raw POST the proxy streams back. Node's global fetch keeps connections alive
 * per origin; every call carries an AbortSignal so timeouts and client disconnects cut it.
 */
export class HttpUpstreamClient {
  constructor(readonly baseUrl: string) {}

  /** `GET /v1/models`; throws when unreachable, slow, non-2xx or not an OpenAI model list. */
  async listModels(timeoutMs: number): Promise<UpstreamModel[]> {
    const res = await this.get('/v1/models', timeoutMs);
    if (!res.ok) {
      await res.body?.cancel();
      throw new HttpUpstreamError('status', `GET /v1/models answered HTTP ${res.status}`, res.status);
    }
    const body = (await res.json().catch(() => undefined)) as { data?: unknown } | undefined;
    if (!body || !Array.isArray(body.data)) throw new HttpUpstreamError('status', 'GET /v1/models did not return an OpenAI model list', res.status);
    const out: UpstreamModel[] = [];
    for (const m of body.data as { id?: unknown; max_model_len?: unknown }[]) {
      if (typeof m?.id !== 'string' || m.id === '') continue;
      const len = typeof m.max_model_len === 'number' && Number.isInteger(m.max_model_len) && m.max_model_len > 0 ? m.max_model_len : undefined;
      out.push({ id: m.id, maxModelLen: len });
    }
    if (out.length === 0) throw new HttpUpstreamError('status', 'GET /v1/models lists no model', res.status);
    return out;
  }

  /**
   * `GET /health` (2xx = healthy); servers without it (404) are asked `GET /v1/models` instead.
   * Answers that are not 2xx are unhealthy; unreachable or slow upstreams throw.
   */
  async health(timeoutMs: number): Promise<UpstreamHealth> {
    let res = await this.get('/health', timeoutMs);
    if (res.status === 404) {
      await res.body?.cancel();
      res = await this.get('/v1/models', timeoutMs);
    }
    await res.body?.cancel();
    return res.ok ? { healthy: true, message: 'ok' } : { healthy: false, message: `health check answered HTTP ${res.status}` };
  }

  /**
   * Sends a JSON POST and returns the response as soon as its headers arrive (the body is the
   * caller's to read or cancel). HTTP error statuses are returned, not thrown; only transport
   * failures throw, as `connect` (or `timeout` when `signal` fired for a timeout reason).
   */
  async post(path: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body,
        signal,
      });
    } catch (err) {
      throw transportError(err, signal, `POST ${path}`);
    }
  }

  private async get(path: string, timeoutMs: number): Promise<Response> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(`${this.baseUrl}${path}`, { headers: { accept: 'application/json' }, signal });
    } catch (err) {
      throw transportError(err, signal, `GET ${path}`);
    }
  }
}

/** fetch rejects with a TypeError ("fetch failed", the socket error in `cause`) or the abort reason. */
export function transportError(err: unknown, signal: AbortSignal, what: string): unknown {
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError') return new HttpUpstreamError('timeout', `${what} timed out`);
    // Anything else that aborted the signal (the client left, a TTFT timer) is the caller's to name.
    return reason ?? err;
  }
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return new HttpUpstreamError('connect', `${what} failed: ${cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err)}`);
}

/** The HttpUpstreamError for an upstream's error answer (its body is read, bounded, for pass-through). */
export async function statusError(res: Response, now: number, maxBodyBytes = 64 * 1024): Promise<HttpUpstreamError> {
  let text = '';
  try {
    text = (await res.text()).slice(0, maxBodyBytes);
  } catch {
    // the body broke off; the status alone classifies the failure
  }
  return new HttpUpstreamError('status', `upstream answered HTTP ${res.status}`, res.status, parseRetryAfter(res.headers.get('retry-after'), now), text);
}
