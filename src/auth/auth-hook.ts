import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DroverError, type Logger } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import { anthropicErrorBody, openAiErrorBody, statusOf } from '../errors/error-body';
import { credentialOf } from './api-key';
import type { KeyStoreService } from './key-store.service';
import { ANONYMOUS_ADMIN, attachPrincipal, principalOf } from './principal';
import { isAnthropicRoute, routeAccess } from './route-access';

/**
 * Authentication and the admin plane as Fastify hooks, ahead of every controller: onRequest checks
 * the key (before the body is read, so an unauthenticated client cannot make the node buffer or
 * parse anything), preHandler checks a key's allowed models once the body is parsed. The key
 * itself is never logged or echoed; only its id is.
 */
export function installAuth(fastify: FastifyInstance, keys: KeyStoreService, config: GatewayConfig, log: Logger): void {
  if (!config.auth) {
    log.warn('INSECURE: --no-auth is set: every client and admin route is open to anyone who reaches this port');
    fastify.addHook('onRequest', (req, _reply, done) => {
      attachPrincipal(req.headers, ANONYMOUS_ADMIN);
      done();
    });
    return;
  }
  fastify.addHook('onRequest', (req, reply, done) => {
    const access = routeAccess(req.url, config.metricsAuth);
    if (access === 'open') return done();
    const token = credentialOf(req.headers);
    const principal = token === undefined ? undefined : keys.authenticate(token);
    if (!principal) {
      const message = token === undefined ? "Missing API key: send it as 'Authorization: Bearer KEY' or 'x-api-key: KEY'." : 'Invalid API key.';
      reply.header('www-authenticate', req.url.startsWith('/dashboard') ? 'Basic realm="drover admin", charset="UTF-8"' : 'Bearer');
      return void refuse(req, reply, new DroverError('unauthorized', message));
    }
    if (access === 'admin' && !principal.admin) {
      return void refuse(req, reply, new DroverError('forbidden', 'This route needs the admin key; a client API key is not enough.'));
    }
    attachPrincipal(req.headers, principal);
    done();
  });
  fastify.addHook('preHandler', (req, reply, done) => {
    const allowed = principalOf(req.headers)?.models;
    const model = (req.body as { model?: unknown } | undefined)?.model;
    if (allowed && typeof model === 'string' && !allowed.includes(model)) {
      return void refuse(req, reply, new DroverError('forbidden', `This API key may not use model '${model}'.`, { param: 'model' }));
    }
    done();
  });
}

function refuse(req: FastifyRequest, reply: FastifyReply, err: DroverError): FastifyReply {
  const body = isAnthropicRoute(req.url) ? anthropicErrorBody(err) : openAiErrorBody(err);
  return reply.code(statusOf(err)).header('content-type', 'application/json').send(body);
}
