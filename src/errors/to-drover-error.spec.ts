import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { DroverError } from '@drover/runtime';
import { WorkerRpcError } from '@drover/worker-proto';
import { anthropicErrorBody, openAiErrorBody, statusOf } from './error-body';
import { ERROR_TABLE } from './error-table';
import { toDroverError } from './to-drover-error';

/**
 * Every gRPC status a worker can end a call with, and what the client must see (WORKER_CONTRACT:
 * UNAVAILABLE→503, RESOURCE_EXHAUSTED→429, DEADLINE_EXCEEDED→504, INVALID_ARGUMENT→400, others→502).
 */
const TABLE: [grpc: keyof typeof status, http: number, code: DroverError['code'], openaiType: string, anthropicType: string, retryAfter?: number][] = [
  ['OK', 502, 'worker_error', 'server_error', 'api_error'],
  ['CANCELLED', 502, 'worker_error', 'server_error', 'api_error'],
  ['UNKNOWN', 502, 'worker_error', 'server_error', 'api_error'],
  ['INVALID_ARGUMENT', 400, 'worker_invalid_argument', 'invalid_request_error', 'invalid_request_error'],
  ['DEADLINE_EXCEEDED', 504, 'worker_timeout', 'timeout_error', 'api_error'],
  ['NOT_FOUND', 502, 'worker_error', 'server_error', 'api_error'],
  ['ALREADY_EXISTS', 502, 'worker_error', 'server_error', 'api_error'],
  ['PERMISSION_DENIED', 502, 'worker_error', 'server_error', 'api_error'],
  ['RESOURCE_EXHAUSTED', 429, 'worker_rate_limited', 'rate_limit_error', 'rate_limit_error', 1],
  ['FAILED_PRECONDITION', 502, 'worker_error', 'server_error', 'api_error'],
  ['ABORTED', 502, 'worker_error', 'server_error', 'api_error'],
  ['OUT_OF_RANGE', 502, 'worker_error', 'server_error', 'api_error'],
  ['UNIMPLEMENTED', 502, 'worker_error', 'server_error', 'api_error'],
  ['INTERNAL', 502, 'worker_error', 'server_error', 'api_error'],
  ['UNAVAILABLE', 503, 'worker_unavailable', 'server_error', 'overloaded_error', 1],
  ['DATA_LOSS', 502, 'worker_error', 'server_error', 'api_error'],
  ['UNAUTHENTICATED', 502, 'worker_error', 'server_error', 'api_error'],
];

describe('gRPC status → client error', () => {
  it('the table covers every gRPC status code', () => {
    const codes = Object.values(status).filter((v): v is number => typeof v === 'number');
    expect(TABLE.map(([name]) => status[name]).sort((a, b) => a - b)).toEqual(codes.sort((a, b) => a - b));
  });

  it.each(TABLE)('%s → HTTP %i (%s, %s)', (grpc, http, code, openaiType, anthropicType, retryAfter) => {
    const cause = new WorkerRpcError(status[grpc], 'engine said no');
    const err = toDroverError(cause);
    expect(err).toBeInstanceOf(DroverError);
    expect(err.code).toBe(code);
    expect(err.cause).toBe(cause);
    expect(statusOf(err)).toBe(http);
    expect(err.message).toBe(`worker error (${grpc}): engine said no`);
    expect(err.retryAfterSeconds).toBe(retryAfter);
    expect(openAiErrorBody(err)).toEqual({ error: { message: err.message, type: openaiType, param: null, code } });
    expect(anthropicErrorBody(err)).toEqual({ type: 'error', error: { type: anthropicType, message: err.message } });
  });

  it('a raw grpc-js error (not yet a WorkerRpcError) maps the same way', () => {
    const raw = Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: status.UNAVAILABLE, details: 'connection refused', metadata: new Metadata() });
    const err = toDroverError(WorkerRpcError.from(raw));
    expect(err.code).toBe('worker_unavailable');
    expect(statusOf(err)).toBe(503);
  });

  it("an engine's retry-after on RESOURCE_EXHAUSTED becomes the client's Retry-After, rounded up to whole seconds", () => {
    const trailers = new Metadata();
    trailers.set('retry-after-ms', '2500');
    const err = toDroverError(WorkerRpcError.from({ code: status.RESOURCE_EXHAUSTED, details: 'overloaded', metadata: trailers }));
    expect(err.code).toBe('worker_rate_limited');
    expect(err.retryAfterSeconds).toBe(3);
    const tiny = toDroverError(new WorkerRpcError(status.RESOURCE_EXHAUSTED, 'overloaded', 10));
    expect(tiny.retryAfterSeconds).toBe(1);
  });

  it('every domain error code has a status and both client error types', () => {
    for (const [code, m] of Object.entries(ERROR_TABLE)) {
      expect(m.status, code).toBeGreaterThanOrEqual(400);
      expect(m.status, code).toBeLessThan(600);
      expect(m.openaiType, code).toMatch(/_error$/);
      // Anthropic names its 413 `request_too_large`, without the suffix.
      expect(m.anthropicType, code).toMatch(/_error$|^request_too_large$/);
    }
  });
});

describe('other errors → client error', () => {
  it('passes DroverErrors through unchanged', () => {
    const e = new DroverError('queue_full', 'full', { retryAfterSeconds: 1 });
    expect(toDroverError(e)).toBe(e);
  });

  it.each([
    [{ code: 'FST_ERR_CTP_INVALID_JSON', statusCode: 400, message: 'Unexpected token' }, 'invalid_json', 400],
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413, message: 'too large' }, 'request_too_large', 413],
    [{ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415, message: 'bad type' }, 'invalid_request', 400],
    [{ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400, message: 'empty' }, 'invalid_json', 400],
    [{ statusCode: 404, message: 'Route not found' }, 'not_found', 404],
    [{ statusCode: 422, message: 'nope' }, 'invalid_request', 400],
  ] as const)('%o → %s (%i)', (thrown, code, http) => {
    const err = toDroverError(thrown);
    expect(err.code).toBe(code);
    expect(statusOf(err)).toBe(http);
  });

  it('anything else is a 500 with a safe message (no internals leak)', () => {
    for (const thrown of [new Error('secret stack detail'), 'a string', undefined, { statusCode: 503, message: 'upstream secret' }]) {
      const err = toDroverError(thrown);
      expect(err.code).toBe('internal');
      expect(statusOf(err)).toBe(500);
      expect(err.message).toBe('The server had an error while processing your request.');
    }
  });
});
