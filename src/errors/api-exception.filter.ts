import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError, type Logger } from '@drover/runtime';
import { LOGGER } from '../runtime/tokens';
import { traceContextOf } from '../observability/request-tracing';
import { traceIdOf } from '../observability/tracing';
import { anthropicErrorBody, openAiErrorBody, statusOf } from './error-body';
import { toDroverError } from './to-drover-error';
import { clientRequestIdOf } from '../api/request-ids';

/**
 * Owns the error wire shape: Anthropic's for /v1/messages, OpenAI's everywhere else. Unknown
 * errors become a 500 with a safe message and are logged with the request id.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const err = exception instanceof HttpException ? fromHttpException(exception) : toDroverError(exception);
    const status = statusOf(err);
    const requestId = String(request?.id ?? '');
    const clientRequestId = request?.headers ? clientRequestIdOf(request.headers) : undefined;
    if (status >= 500) {
      this.log.error({ err: exception instanceof Error ? exception.stack : String(exception), requestId, clientRequestId, traceId: traceIdOf(traceContextOf(request)), code: err.code }, 'request failed');
    } else {
      this.log.info({ requestId, clientRequestId, traceId: traceIdOf(traceContextOf(request)), status, code: err.code }, 'request rejected');
    }
    if (reply.sent || reply.raw.headersSent) {
      if (!reply.raw.writableEnded) reply.raw.end();
      return;
    }
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
    const body = request?.url?.startsWith('/v1/messages') ? anthropicErrorBody(err) : openAiErrorBody(err);
    reply.status(status).header('content-type', 'application/json').send(body);
  }
}

function fromHttpException(e: HttpException): DroverError {
  const status = e.getStatus();
  const response = e.getResponse();
  const message = typeof response === 'string' ? response : ((response as { message?: string }).message ?? e.message);
  if (status === 404) return new DroverError('not_found', String(message));
  if (status === 401) return new DroverError('unauthorized', String(message));
  if (status === 403) return new DroverError('forbidden', String(message));
  if (status === 429) return new DroverError('rate_limited', String(message));
  if (status === 413) return new DroverError('request_too_large', 'Request body is too large.');
  if (status === 408) return new DroverError('request_timeout', String(message));
  if (status >= 500) return new DroverError('internal', 'The server had an error while processing your request.');
  return new DroverError('invalid_request', Array.isArray(message) ? message.join('; ') : String(message));
}
