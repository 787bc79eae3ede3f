import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { AddressPolicy } from './address-policy';

/** A connection the egress policy refused (its message is for logs, never for clients). */
export class EgressDenied extends Error {
  constructor(readonly host: string) {
    super(`egress to '${host}' is not allowed by the egress policy`);
    this.name = 'EgressDenied';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Outbound HTTP under an address policy, for URLs a client or a worker record names. The host is
 * resolved once, every address it resolves to is checked, and the socket connects to a checked
 * address (the lookup is the connector's own, so there is no second resolution a rebinding DNS
 * server could answer differently). IP-literal hosts skip DNS, so they are checked up front.
 */
export class Egress {
  readonly policy: AddressPolicy;
  /** Socket options for an undici Pool or Agent: its DNS lookup is the checked one. */
  readonly connectOptions: { lookup: (host: string, options: object, cb: LookupCallback) => void };
  readonly dispatcher: Dispatcher;

  constructor(allow: readonly string[]) {
    this.policy = new AddressPolicy(allow);
    this.connectOptions = { lookup: (host, options, cb) => this.lookup(host, options, cb) };
    this.dispatcher = new Agent({ connect: this.connectOptions });
  }

  /** Throws EgressDenied when the URL's host is an IP literal the policy refuses (DNS names are checked at connect). */
  checkUrl(url: URL): void {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.policy.allows(host)) throw new EgressDenied(host);
  }

  /** Resolves, refuses unless every address is allowed, then answers with the checked addresses only. */
  async resolveAllowed(host: string): Promise<LookupAddress[]> {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare) !== 0) {
      if (!this.policy.allows(bare)) throw new EgressDenied(bare);
      return [{ address: bare, family: isIP(bare) }];
    }
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) => dnsLookup(bare, { all: true }, (err, a) => (err ? reject(err) : resolve(a))));
    if (addresses.length === 0 || addresses.some((a) => !this.policy.allows(a.address))) throw new EgressDenied(bare);
    return addresses;
  }

  private lookup(host: string, options: { all?: boolean; family?: number | string }, cb: LookupCallback): void {
    this.resolveAllowed(host).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted);
        if (usable.length === 0) return cb(Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }), '');
        if (options.all) cb(null, usable);
        else cb(null, usable[0].address, usable[0].family);
      },
      (err: NodeJS.ErrnoException) => cb(err, ''),
    );
  }
}

/** Whether an error (or its cause chain) is an egress refusal. */
export function isEgressDenied(err: unknown): boolean {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as { cause?: unknown } | undefined, depth++) {
    if (e instanceof EgressDenied) return true;
  }
  return false;
}
