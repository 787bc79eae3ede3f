import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DroverError } from '@drover/runtime';
import { isAnthropicRoute } from '../auth/route-access';
import { anthropicErrorBody, openAiErrorBody, statusOf } from './error-body';

/** Answers a request with an error in its API's shape, from a hook (outside Nest's exception filter). */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: DroverError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(statusOf(err)).header('content-type', 'application/json').send(errorBodyFor(req.url, err));
}

/** Anthropic's error shape on /v1/messages, OpenAI's everywhere else. */
export function errorBodyFor(url: string | undefined, err: DroverError): unknown {
  return url !== undefined && isAnthropicRoute(url) ? anthropicErrorBody(err) : openAiErrorBody(err);
}
