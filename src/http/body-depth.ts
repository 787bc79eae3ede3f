import type { FastifyInstance } from 'fastify';
import { DroverError } from '@drover/runtime';
import { sendError } from '../errors/send-error';

/**
 * JSON nested deeper than this is refused (400) before any controller sees it. Real requests
 * (tool schemas, structured-output schemas) nest a few dozen levels at most; deeper bodies only
 * serve to exhaust the stack of whatever walks them recursively later (template rendering,
 * schema compilation, re-serialisation).
 */
export const MAX_JSON_DEPTH = 64;

export function installBodyDepthLimit(fastify: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  fastify.addHook('preValidation', (req, reply, done) => {
    if (req.body !== null && typeof req.body === 'object' && depthExceeds(req.body, maxDepth)) {
      return void sendError(req, reply, new DroverError('invalid_request', `The request body is nested more than ${maxDepth} levels deep.`));
    }
    done();
  });
}

/** Whether `value` nests more than `max` levels of arrays/objects (iterative: no recursion to exhaust). */
export function depthExceeds(value: object, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, depth + 1]);
  }
  return false;
}
