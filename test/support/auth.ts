/**
 * The keys every test gateway is started with (auth is on by default): `TEST_API_KEY` is what the
 * SDK clients send, `TEST_ADMIN_KEY` opens the admin plane (and is accepted on client routes too).
 */
export const TEST_API_KEY = 'test';
export const TEST_ADMIN_KEY = 'test-admin-key';

/** Headers for raw fetch calls: the admin key as a bearer token. */
export const ADMIN = { authorization: `Bearer ${TEST_ADMIN_KEY}` } as const;
/** Headers for raw fetch calls as a plain client. */
export const CLIENT = { authorization: `Bearer ${TEST_API_KEY}` } as const;

/** Test workers (mock HTTP upstreams) listen on loopback, which the egress policy refuses unless allowed. */
export const TEST_WORKER_EGRESS = ['127.0.0.0/8', '::1'] as const;
