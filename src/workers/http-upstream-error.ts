/**
 * A failed call to an OpenAI-compatible HTTP upstream, classified the way the retry policy and
 * the circuit breaker need it: the upstream was unreachable (`connect`), too slow (`timeout`), or
 * answered with an HTTP error status (`status`, with its body kept for pass-through).
 */
export class HttpUpstreamError extends Error {
  constructor(
    readonly kind: 'connect' | 'timeout' | 'status' | 'broken',
    message: string,
    readonly status?: number,
    /** The upstream's `Retry-After`, in ms (429/503 answers). */
    readonly retryAfterMs?: number,
    /** The upstream's error body (for statuses passed through to the client). */
    readonly body?: string,
  ) {
    super(message);
    this.name = 'HttpUpstreamError';
  }

  /** 5xx, 429, unreachable, timed out or cut mid-body: worth another worker, and the worker's fault. */
  get retryable(): boolean {
    if (this.kind !== 'status') return true;
    return this.status === 429 || (this.status !== undefined && this.status >= 500);
  }

  /** The gRPC status name with the same meaning, so worker error metrics read alike for both kinds. */
  get grpcEquivalent(): string {
    if (this.kind === 'connect') return 'UNAVAILABLE';
    if (this.kind === 'timeout') return 'DEADLINE_EXCEEDED';
    if (this.kind === 'broken') return 'ABORTED';
    if (this.status === 429) return 'RESOURCE_EXHAUSTED';
    if (this.status === 503) return 'UNAVAILABLE';
    if (this.status === 504) return 'DEADLINE_EXCEEDED';
    if (this.status !== undefined && this.status >= 500) return 'INTERNAL';
    return 'INVALID_ARGUMENT';
  }
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `now` (undefined when absent or bad). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
