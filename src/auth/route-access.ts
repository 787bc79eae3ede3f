/**
 * Which credential a route needs. Probes stay open (load balancers and kubelets carry no key);
 * /metrics is open unless --metrics-auth; the client APIs (/v1/*) take any valid key; everything
 * else (/workers, /admin, /mesh, /dashboard and any unknown path) is the admin plane.
 */
export type RouteAccess = 'open' | 'client' | 'admin';

const PROBES = new Set(['/health', '/readiness']);

export function routeAccess(url: string, metricsAuth: boolean): RouteAccess {
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  if (PROBES.has(path)) return 'open';
  if (path === '/metrics') return metricsAuth ? 'admin' : 'open';
  if (path === '/v1' || path.startsWith('/v1/')) return 'client';
  return 'admin';
}

/** Anthropic's error shape on its Messages API, OpenAI's everywhere else. */
export function isAnthropicRoute(url: string): boolean {
  return url.startsWith('/v1/messages');
}
