import { describe, expect, it } from 'vitest';
import { AddressPolicy, parseCidr } from './address-policy';

describe('AddressPolicy', () => {
  const strict = new AddressPolicy([]);

  it('refuses loopback, private, link-local, CGNAT, metadata, multicast and reserved addresses by default', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1']) {
      expect(strict.allows(ip), ip).toBe(false);
    }
    for (const ip of ['::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1', '2002:a00:1::1', '::127.0.0.1']) {
      expect(strict.allows(ip), ip).toBe(false);
    }
  });

  it('allows public addresses, and what the operator allows', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect(strict.allows(ip), ip).toBe(true);
    const lan = new AddressPolicy(['10.0.0.0/8', '::1', '127.0.0.2']);
    expect(lan.allows('10.9.8.7')).toBe(true);
    expect(lan.allows('::1')).toBe(true);
    expect(lan.allows('127.0.0.2')).toBe(true);
    expect(lan.allows('127.0.0.1')).toBe(false);
    expect(lan.allows('169.254.169.254')).toBe(false);
  });

  it('refuses what is not an IP address, and parses CIDRs strictly', () => {
    expect(strict.allows('localhost')).toBe(false);
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('[::1]')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix/);
    expect(() => parseCidr('example.com')).toThrow(/not an IP/);
  });
});
