import type { DroverErrorCode } from '@drover/runtime';

/** The one table from a domain error code to the HTTP status and the client-facing error types. */
export interface ErrorMapping {
  status: number;
  openaiType: string;
  anthropicType: string;
}

export const ERROR_TABLE: Record<DroverErrorCode, ErrorMapping> = {
  invalid_request: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  invalid_json: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  context_length_exceeded: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  unsupported: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  worker_invalid_argument: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  unauthorized: { status: 401, openaiType: 'authentication_error', anthropicType: 'authentication_error' },
  forbidden: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  model_not_found: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error' },
  not_found: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error' },
  // Anthropic documents no timeout type; its invalid_request_error covers "other 4XX status codes".
  request_timeout: { status: 408, openaiType: 'timeout_error', anthropicType: 'invalid_request_error' },
  request_too_large: { status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large' },
  queue_timeout: { status: 408, openaiType: 'timeout_error', anthropicType: 'api_error' },
  conflict: { status: 409, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  rate_limited: { status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  queue_full: { status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  worker_rate_limited: { status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  internal: { status: 500, openaiType: 'server_error', anthropicType: 'api_error' },
  worker_error: { status: 502, openaiType: 'server_error', anthropicType: 'api_error' },
  no_healthy_worker: { status: 503, openaiType: 'server_error', anthropicType: 'overloaded_error' },
  worker_unavailable: { status: 503, openaiType: 'server_error', anthropicType: 'overloaded_error' },
  shutting_down: { status: 503, openaiType: 'server_error', anthropicType: 'overloaded_error' },
  worker_timeout: { status: 504, openaiType: 'timeout_error', anthropicType: 'api_error' },
};
