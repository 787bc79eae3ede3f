import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Request ids and who chooses them. The gateway's own id (`req-` + 16 random bytes) names the
 * request everywhere it matters: the engine request id (an engine aborts, deduplicates and reports
 * by it), the HTTP upstream's x-request-id, the completion ids and the log lines. A client's
 * `x-request-id` is only a correlation label: echoed back in the `x-request-id` response header and
 * logged as `clientRequestId`, never used to name anything, so reusing or guessing another
 * request's id reaches nothing of that request.
 */
export function newRequestId(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    // One entropy read per 256 ids: randomBytes per request was ~3% of a passthrough request's CPU.
    pool = randomBytes(ID_BYTES * 256);
    poolOffset = 0;
  }
  const id = pool.toString('hex', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return `req-${id}`;
}

const ID_BYTES = 16;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** What a client may send as its correlation label (anything else is ignored, not echoed). */
const CLIENT_LABEL = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's label per request, attached to its headers object (as the principal is). */
const labels = new WeakMap<object, string>();

export function clientRequestIdOf(headers: object): string | undefined {
  return labels.get(headers);
}

/**
 * Response headers: `x-request-id` echoes the client's label when it sent a valid one (else the
 * gateway id), `x-drover-request-id` is always the gateway id (what operators find in the logs).
 */
export function installRequestIds(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    const given = req.headers['x-request-id'];
    const label = typeof given === 'string' && CLIENT_LABEL.test(given) ? given : undefined;
    if (label !== undefined) labels.set(req.headers, label);
    reply.header('x-request-id', label ?? String(req.id));
    reply.header('x-drover-request-id', String(req.id));
    done();
  });
}

/** The request-id headers set on a reply, for paths that hijack it and write their own head (SSE). */
export function requestIdHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['x-request-id', 'x-drover-request-id']) {
    const v = reply.getHeader(name);
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}
