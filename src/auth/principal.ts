/** Who a request acts as, once authenticated. Limits are keyed by `id`, never by the raw token. */
export interface Principal {
  /** Stable key id: a virtual key's id, `bootstrap-N` for a --api-key key, `admin`, or `anonymous` with --no-auth. */
  id: string;
  admin: boolean;
  /** Models this key may use (undefined = all). */
  models?: readonly string[];
  rpm?: number;
  tpm?: number;
  /** Prompt + completion tokens this key may spend in total, mesh-wide (undefined = unlimited). */
  budgetTokens?: number;
}

export const ANONYMOUS_ADMIN: Principal = { id: 'anonymous', admin: true };

/**
 * The principal of a request, attached to its headers object: every API hands `req.headers` down
 * to admission and routing, so this reaches them without a field on each request type, and a
 * client cannot forge it (it is not a header).
 */
const byHeaders = new WeakMap<object, Principal>();

export function attachPrincipal(headers: object, principal: Principal): void {
  byHeaders.set(headers, principal);
}

export function principalOf(headers: object): Principal | undefined {
  return byHeaders.get(headers);
}
