import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InferenceRequest } from '../inference/inference-types';
import { traceContextOf } from '../observability/request-tracing';
import { clientRequestIdOf } from './request-ids';

/** The gateway-generated id of this request (never the client's x-request-id: see request-ids.ts). */
export function requestIdOf(req: FastifyRequest): string {
  return String(req.id);
}

/**
 * gRPC metadata for the worker call: the request id, and the client's W3C trace context passed
 * through as is. When tracing is on, the worker-call span's own context replaces it.
 */
export function workerMetadata(req: FastifyRequest): Record<string, string> {
  const md: Record<string, string> = { 'x-request-id': requestIdOf(req) };
  for (const name of ['traceparent', 'tracestate']) {
    const v = req.headers[name];
    if (typeof v === 'string' && v.length > 0) md[name] = v;
  }
  return md;
}

/** An AbortSignal that fires when the client disconnects before the response is complete. */
export function clientGoneSignal(req: FastifyRequest, reply: FastifyReply): AbortController {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  };
  reply.raw.on('close', onClose);
  req.raw.on('aborted', onClose);
  return controller;
}

/** The per-request fields every API builds the same way: id, headers, client-gone signal, worker metadata, trace. */
export function requestScope(req: FastifyRequest, reply: FastifyReply): Pick<InferenceRequest, 'requestId' | 'clientRequestId' | 'headers' | 'signal' | 'metadata' | 'trace'> {
  return {
    requestId: requestIdOf(req),
    clientRequestId: clientRequestIdOf(req.headers),
    headers: req.headers,
    signal: clientGoneSignal(req, reply).signal,
    metadata: workerMetadata(req),
    trace: traceContextOf(req),
  };
}
