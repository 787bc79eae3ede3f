import { DroverError } from '@drover/runtime';
import { WorkerRpcError } from '@drover/worker-proto';

const GRPC_CODE_TO_ERROR: Record<string, DroverError['code']> = {
  UNAVAILABLE: 'worker_unavailable',
  RESOURCE_EXHAUSTED: 'worker_rate_limited',
  DEADLINE_EXCEEDED: 'worker_timeout',
  INVALID_ARGUMENT: 'worker_invalid_argument',
};

interface HttpishError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Normalises anything thrown inside a request into a DroverError (unknown errors → internal). */
export function toDroverError(err: unknown): DroverError {
  if (err instanceof DroverError) return err;
  if (err instanceof WorkerRpcError) {
    const code = GRPC_CODE_TO_ERROR[err.grpcName] ?? 'worker_error';
    return new DroverError(code, `worker error (${err.grpcName}): ${err.message}`, { cause: err, retryAfterSeconds: retryAfterSecondsOf(code, err) });
  }
  if (err && typeof err === 'object') {
    const e = err as HttpishError;
    if (e.code === 'FST_ERR_CTP_INVALID_JSON' || (err instanceof SyntaxError && e.statusCode === 400)) {
      return new DroverError('invalid_json', `We could not parse the JSON body of your request: ${e.message}`);
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new DroverError('request_too_large', 'Request body is too large.');
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return new DroverError('invalid_request', 'Unsupported Content-Type: send application/json.');
    }
    if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new DroverError('invalid_json', 'The request body is empty.');
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return new DroverError(e.statusCode === 404 ? 'not_found' : 'invalid_request', e.message ?? 'Bad request');
    }
  }
  return new DroverError('internal', 'The server had an error while processing your request.', { cause: err });
}

/** Overload and unavailability tell the client when to retry (the engine's own hint, else 1 s), as the HTTP path does. */
function retryAfterSecondsOf(code: DroverError['code'], err: WorkerRpcError): number | undefined {
  if (code === 'worker_rate_limited') return err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : 1;
  if (code === 'worker_unavailable') return 1;
  return undefined;
}
