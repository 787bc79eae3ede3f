/**
 * Every domain error is a DroverError with a stable `code`. The gateway owns one table that maps a
 * code to an HTTP status and an OpenAI/Anthropic error type; libraries only pick the code.
 */
export type DroverErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'model_not_found'
  | 'context_length_exceeded'
  | 'unsupported'
  | 'not_found'
  | 'conflict'
  | 'no_healthy_worker'
  | 'worker_unavailable'
  | 'worker_rate_limited'
  | 'worker_timeout'
  | 'worker_invalid_argument'
  | 'worker_error'
  | 'rate_limited'
  | 'queue_full'
  | 'queue_timeout'
  | 'shutting_down'
  | 'unauthorized'
  | 'forbidden'
  | 'request_too_large'
  | 'request_timeout'
  | 'internal';

export interface DroverErrorOptions {
  param?: string | null;
  cause?: unknown;
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
}

export class DroverError extends Error {
  readonly code: DroverErrorCode;
  readonly param: string | null;
  readonly retryAfterSeconds?: number;
  readonly details?: Record<string, unknown>;

  constructor(code: DroverErrorCode, message: string, options: DroverErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DroverError';
    this.code = code;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }

  static invalidRequest(message: string, param?: string): DroverError {
    return new DroverError('invalid_request', message, { param });
  }

  static notFound(message: string, param?: string): DroverError {
    return new DroverError('not_found', message, { param });
  }

  static is(err: unknown, code?: DroverErrorCode): err is DroverError {
    return err instanceof DroverError && (code === undefined || err.code === code);
  }
}

/** Invariant check: throws an `internal` DroverError (a bug, never bad input). */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new DroverError('internal', message);
}
