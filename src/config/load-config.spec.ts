import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config';

const problems = (argv: string[], env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    loadConfig(argv, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('gateway configuration', () => {
  it('merges defaults < environment < flags', () => {
    expect(loadConfig([], {}).port).toBe(8080);
    expect(loadConfig([], { DROVER_PORT: '9000' }).port).toBe(9000);
    expect(loadConfig(['--port', '9001'], { DROVER_PORT: '9000' }).port).toBe(9001);
  });

  it('lists every problem at once', () => {
    const p = problems(['--port', 'x', '--policy', 'fastest', '--nope']);
    expect(p).toEqual([
      'unknown flag --nope (see --help)',
      "--port (DROVER_PORT): 'x' is not an integer",
      "--policy (DROVER_POLICY): 'fastest' is not one of cache_aware, round_robin, random, power_of_two, least_load, consistent_hash, prefix_hash, manual",
    ]);
  });

  it('takes every routing threshold as a flag', () => {
    const c = loadConfig(['--cold-balance-abs-threshold', '9', '--prefix-hash-tokens', '64', '--bounded-load-factor', '1.5', '--virtual-nodes', '40', '--load-sample-size', '8', '--sticky-idle-ms', '1000', '--max-sticky-sessions', '10'], {});
    expect([c.coldBalanceAbsThreshold, c.prefixHashTokens, c.boundedLoadFactor, c.virtualNodes, c.loadSampleSize, c.stickyIdleMs, c.maxStickySessions]).toEqual([9, 64, 1.5, 40, 8, 1000, 10]);
    expect(problems(['--bounded-load-factor', '0.5'])).toEqual(['--bounded-load-factor (DROVER_BOUNDED_LOAD_FACTOR): 0.5 is below the minimum 1']);
  });

  it('needs the three mesh TLS files together, and readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-cfg-'));
    const pem = join(dir, 'x.pem');
    writeFileSync(pem, 'pem');
    expect(problems(['--mesh-tls-ca', pem])).toEqual(['mesh TLS needs --mesh-tls-ca, --mesh-tls-cert, --mesh-tls-key together (missing --mesh-tls-cert, --mesh-tls-key)']);
    expect(problems(['--mesh-tls-ca', pem, '--mesh-tls-cert', pem, '--mesh-tls-key', join(dir, 'missing.pem')])).toEqual([`--mesh-tls-key: cannot read '${join(dir, 'missing.pem')}'`]);
    expect(loadConfig(['--mesh-tls-ca', pem, '--mesh-tls-cert', pem, '--mesh-tls-key', pem], {}).meshTlsKey).toBe(pem);
  });

  it('checks mesh settings that only fail together, before the node starts', () => {
    expect(loadConfig(['--mesh-dns', 'drover-mesh.default.svc.cluster.local'], {}).meshDiscovery).toBe('dns');
    expect(loadConfig(['--mesh-dns', 'x', '--mesh-discovery', 'hyperswarm'], {}).meshDiscovery).toBe('hyperswarm');
    expect(problems(['--mesh', '--mesh-discovery', 'dns'])).toEqual(['--mesh-discovery dns needs --mesh-dns NAME (the headless service)']);
    expect(problems(['--mesh', '--mesh-discovery', 'hyperswarm'])).toEqual(['--mesh-discovery hyperswarm needs --mesh-key (the topic is derived from it)']);
    expect(problems(['--mesh', '--mesh-bind', '0.0.0.0'])).toEqual(['--mesh-bind 0.0.0.0 is a wildcard: set --mesh-advertise to an address peers can reach']);
    expect(loadConfig(['--mesh', '--mesh-bind', '0.0.0.0', '--mesh-advertise', '10.1.2.3'], {}).meshAdvertise).toBe('10.1.2.3');
    // Without --mesh these settings are inert.
    expect(problems(['--mesh-discovery', 'dns'])).toEqual([]);
  });
});
