import type { FastifyInstance, FastifyRequest } from 'fastify';
import { context } from '@opentelemetry/api';
import { childContext, endSpan, extractContext, headersContext, SpanKind, startSpan, tracingEnabled, type Context } from './tracing';

const TRACE = Symbol('drover.trace');

/**
 * One server span per HTTP request, continuing an incoming `traceparent`. It ends when the raw
 * response closes, which also covers hijacked (SSE) replies.
 */
export function installRequestTracing(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    // Tracing off: no server span; the request's context is read from its headers on demand.
    if (!tracingEnabled()) return done();
    const parent = extractContext(req.headers);
    const span = startSpan(`${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]}`, parent, {
      'http.request.method': req.method,
      'url.path': req.url.split('?')[0],
      'drover.request_id': String(req.id),
    }, SpanKind.SERVER);
    (req as unknown as Record<symbol, Context>)[TRACE] = childContext(parent, span);
    reply.raw.once('close', () => {
      span.setAttribute('http.response.status_code', reply.raw.statusCode);
      endSpan(span, reply.raw.statusCode >= 500 ? new Error(`HTTP ${reply.raw.statusCode}`) : undefined);
    });
    done();
  });
}

export function traceContextOf(req: FastifyRequest): Context {
  const ctx = (req as unknown as Record<symbol, Context>)[TRACE];
  if (ctx) return ctx;
  return tracingEnabled() ? context.active() : headersContext(req.headers);
}
