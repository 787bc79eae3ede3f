import { DroverError } from '@drover/runtime';
import { HttpUpstreamError } from '../workers/http-upstream-error';

/** Upper bound on an upstream's Retry-After before the gateway tries another worker anyway. */
export const MAX_UPSTREAM_RETRY_AFTER_MS = 5000;

/** A proxied attempt's failure that another worker may not share. */
export function isRetryableUpstream(err: unknown): boolean {
  return err instanceof HttpUpstreamError && err.retryable;
}

/** The failure as the client sees it once retries are spent (same codes as the gRPC path). */
export function upstreamFailure(err: HttpUpstreamError): DroverError {
  const detail = upstreamMessage(err);
  if (err.kind === 'timeout') return new DroverError('worker_timeout', `worker timed out: ${err.message}`, { cause: err });
  if (err.kind === 'connect') return new DroverError('worker_unavailable', `worker unreachable: ${err.message}`, { cause: err });
  if (err.kind === 'broken') return new DroverError('worker_error', err.message, { cause: err });
  const message = `worker answered HTTP ${err.status}${detail ? `: ${detail}` : ''}`;
  if (err.status === 429) {
    const seconds = err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : 1;
    return new DroverError('worker_rate_limited', message, { cause: err, retryAfterSeconds: seconds });
  }
  if (err.status === 503) return new DroverError('worker_unavailable', message, { cause: err, retryAfterSeconds: 1 });
  if (err.status === 504) return new DroverError('worker_timeout', message, { cause: err });
  return new DroverError('worker_error', message, { cause: err });
}

/** The message inside an upstream's OpenAI-style error body, bounded, if there is one. */
function upstreamMessage(err: HttpUpstreamError): string {
  if (!err.body) return '';
  try {
    const parsed = JSON.parse(err.body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof parsed.error === 'object' ? parsed.error?.message : (parsed.error ?? parsed.message ?? parsed.detail);
    return typeof m === 'string' ? m.slice(0, 500) : '';
  } catch {
    return '';
  }
}
