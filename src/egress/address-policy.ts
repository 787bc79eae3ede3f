import { BlockList, isIP } from 'node:net';

/**
 * Where the gateway may connect on a client's or a worker's say-so. Refused unless the operator
 * allows them: "this network", loopback, link-local (cloud metadata lives at 169.254.169.254 and
 * fd00:ec2::254), private, CGNAT, benchmarking, multicast and reserved ranges, and the IPv6 forms
 * that embed an IPv4 address (mapped, NAT64, 6to4), checked through their IPv4 address.
 */
const DENIED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const DENIED_V6: [string, number][] = [
  ['::', 96],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const denied = new BlockList();
for (const [net, prefix] of DENIED_V4) denied.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of DENIED_V6) denied.addSubnet(net, prefix, 'ipv6');

export class AddressPolicy {
  private readonly allowed = new BlockList();

  /** `allow`: CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses the operator allows despite the deny ranges. */
  constructor(readonly allow: readonly string[]) {
    for (const entry of allow) {
      const { address, prefix, family } = parseCidr(entry);
      this.allowed.addSubnet(address, prefix, family);
    }
  }

  /** Whether an IP address (v4 or v6, as DNS returns it) may be connected to. */
  allows(ip: string): boolean {
    const v4 = embeddedV4(ip);
    if (v4 !== undefined) return this.allowsV4(v4);
    const family = isIP(ip);
    if (family === 4) return this.allowsV4(ip);
    if (family !== 6) return false;
    return this.allowed.check(ip, 'ipv6') || !denied.check(ip, 'ipv6');
  }

  private allowsV4(ip: string): boolean {
    return this.allowed.check(ip, 'ipv4') || !denied.check(ip, 'ipv4');
  }
}

/** Parses `a.b.c.d/n`, `v6/n` or a bare address (a /32 or /128); throws a readable Error otherwise. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const slash = entry.indexOf('/');
  const address = (slash >= 0 ? entry.slice(0, slash) : entry).trim().replace(/^\[|\]$/g, '');
  const family = isIP(address);
  if (family === 0) throw new Error(`'${entry}' is not an IP address or CIDR`);
  const max = family === 4 ? 32 : 128;
  const prefix = slash >= 0 ? Number(entry.slice(slash + 1)) : max;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`'${entry}': prefix must be 0..${max}`);
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:1.2.3.4` or `::ffff:102:304`), else undefined. */
function embeddedV4(ip: string): string | undefined {
  const m = /^(?:0{0,4}:){0,5}:?ffff:(.+)$/i.exec(ip) ?? /^::ffff:(.+)$/i.exec(ip);
  if (!m) return undefined;
  const tail = m[1];
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return undefined;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
