import { randomBytes } from 'node:crypto';

/**
 * Gateways started by a bench run with auth on, as in production: one fresh admin key per run
 * (accepted on the client routes too), passed to every node and sent on every request.
 */
export const BENCH_ADMIN_KEY = randomBytes(24).toString('base64url');
export const BENCH_AUTH_ARGS = ['--admin-key', BENCH_ADMIN_KEY];
export const BENCH_AUTH = { authorization: `Bearer ${BENCH_ADMIN_KEY}` } as const;

/** Bench upstreams run on loopback, which the worker egress policy refuses unless allowed. */
export const BENCH_LOOPBACK_WORKERS = ['--egress-allow-workers', '127.0.0.0/8,::1'];
