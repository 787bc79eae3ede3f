import type { FastifyInstance } from 'fastify';
import type { Metrics } from '@drover/runtime';

/**
 * HTTP metrics from Fastify hooks: route (the matched pattern, never the raw URL, to keep
 * cardinality bounded), method, status, duration, in-flight and body sizes.
 */
export function installHttpMetrics(fastify: FastifyInstance, metrics: Metrics): void {
  let inFlight = 0;
  fastify.addHook('onRequest', (req, _reply, done) => {
    inFlight++;
    metrics.set('drover_http_requests_in_flight', inFlight);
    (req as unknown as { droverStart: bigint }).droverStart = process.hrtime.bigint();
    done();
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    inFlight = Math.max(0, inFlight - 1);
    metrics.set('drover_http_requests_in_flight', inFlight);
    const route = req.routeOptions?.url ?? 'unmatched';
    const start = (req as unknown as { droverStart?: bigint }).droverStart;
    const seconds = start ? Number(process.hrtime.bigint() - start) / 1e9 : 0;
    metrics.inc('drover_http_requests_total', { route, method: req.method, status: reply.statusCode });
    metrics.observe('drover_http_request_duration_seconds', seconds, { route, method: req.method });
    const reqBytes = Number(req.headers['content-length'] ?? 0);
    if (reqBytes > 0) metrics.observe('drover_http_request_bytes', reqBytes, { route });
    const resBytes = Number(reply.getHeader('content-length') ?? 0);
    if (resBytes > 0) metrics.observe('drover_http_response_bytes', resBytes, { route });
    done();
  });
}
