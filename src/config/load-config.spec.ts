import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateIdentityAuthority, issueIdentity } from '@drover/swim';
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

const KEY = randomBytes(32).toString('base64');

describe('gateway configuration', () => {
  it('merges defaults < environment < flags', () => {
    expect(loadConfig([], {}).port).toBe(8080);
    expect(loadConfig([], { DROVER_PORT: '9000' }).port).toBe(9000);
    expect(loadConfig(['--port', '9001'], { DROVER_PORT: '9000' }).port).toBe(9001);
  });

  it('takes per-model directories as name=path, repeated or comma-separated, or as a map in the file', () => {
    expect(loadConfig([], {}).modelConfig).toEqual({});
    expect(loadConfig(['--model-config', 'a=/x', '--model-config=b=/y,c=/z'], {}).modelConfig).toEqual({ a: '/x', b: '/y', c: '/z' });
    expect(problems(['--model-config', 'nameonly'])).toEqual(["--model-config (DROVER_MODEL_CONFIG): 'nameonly' is not name=value"]);
    const dir = mkdtempSync(join(tmpdir(), 'drover-cfg-'));
    const file = join(dir, 'models.yaml');
    writeFileSync(file, 'modelConfig:\n  llama: /models/llama\n  bad: 3\n');
    expect(problems(['--config', file])).toEqual([`config file ${file}: key 'modelConfig': 'bad' must map to a non-empty string`]);
    writeFileSync(file, 'modelConfig:\n  llama: /models/llama\n');
    expect(loadConfig(['--config', file], {}).modelConfig).toEqual({ llama: '/models/llama' });
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
    expect(problems(['--mesh', '--mesh-tls-ca', pem])).toEqual(['mesh TLS needs --mesh-tls-ca, --mesh-tls-cert, --mesh-tls-key together (missing --mesh-tls-cert, --mesh-tls-key)']);
    expect(problems(['--mesh', '--mesh-tls-ca', pem, '--mesh-tls-cert', pem, '--mesh-tls-key', join(dir, 'missing.pem')])).toEqual([`--mesh-tls-key: cannot read '${join(dir, 'missing.pem')}'`]);
    expect(loadConfig(['--mesh', '--mesh-tls-ca', pem, '--mesh-tls-cert', pem, '--mesh-tls-key', pem], {}).meshTlsKey).toBe(pem);
  });

  it('checks mesh settings that only fail together, before the node starts', () => {
    expect(loadConfig(['--mesh', '--mesh-dns', 'drover-mesh.default.svc.cluster.local'], {}).meshDiscovery).toBe('dns');
    expect(loadConfig(['--mesh', '--mesh-key', KEY, '--mesh-dns', 'x', '--mesh-discovery', 'hyperswarm'], {}).meshDiscovery).toBe('hyperswarm');
    expect(problems(['--mesh', '--mesh-discovery', 'dns'])).toEqual(['--mesh-discovery dns needs --mesh-dns NAME (the headless service)']);
    expect(problems(['--mesh', '--mesh-discovery', 'hyperswarm'])).toEqual(['--mesh-discovery hyperswarm needs --mesh-key (the topic is derived from it)']);
    expect(problems(['--mesh', '--mesh-bind', '0.0.0.0', '--mesh-key', KEY])).toEqual(['--mesh-bind 0.0.0.0 is a wildcard: set --mesh-advertise to an address peers can reach']);
    expect(loadConfig(['--mesh', '--mesh-bind', '0.0.0.0', '--mesh-advertise', '10.1.2.3', '--mesh-key', KEY], {}).meshAdvertise).toBe('10.1.2.3');
  });

  it('mesh settings without --mesh are an error (they do not imply it), from flags, env or file', () => {
    expect(problems(['--mesh-discovery', 'dns'])).toEqual(['--mesh-discovery given without --mesh (DROVER_MESH): add --mesh to join a mesh, or drop the mesh settings']);
    expect(problems(['--mesh-seeds', '10.0.0.1:7946'], { DROVER_MESH_KEY: KEY })).toEqual([
      '--mesh-key, --mesh-seeds given without --mesh (DROVER_MESH): add --mesh to join a mesh, or drop the mesh settings',
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'drover-cfg-')), 'c.yaml');
    writeFileSync(file, 'meshPort: 7000\n');
    expect(problems(['--config', file])).toEqual(['--mesh-port given without --mesh (DROVER_MESH): add --mesh to join a mesh, or drop the mesh settings']);
    // Defaults alone are fine, and so is --no-mesh with nothing else.
    expect(problems([])).toEqual([]);
    expect(problems(['--no-mesh'])).toEqual([]);
  });

  it('a mesh on a non-loopback address needs a key, unless --mesh-insecure says otherwise', () => {
    const open = problems(['--mesh', '--mesh-bind', '10.0.0.5']);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatch(/--mesh on 10\.0\.0\.5 \(not loopback\) needs --mesh-key.*keygen.*--mesh-insecure/);
    expect(problems(['--mesh', '--mesh-bind', '0.0.0.0', '--mesh-advertise', '10.0.0.5'])[0]).toMatch(/needs --mesh-key/);
    expect(problems(['--mesh', '--mesh-bind', '10.0.0.5', '--mesh-insecure'])).toEqual([]);
    expect(problems(['--mesh', '--mesh-bind', '10.0.0.5'], { DROVER_MESH_KEY: KEY })).toEqual([]);
    // Loopback binds are reachable only from this host: keyless is allowed (with a warning at start).
    for (const bind of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(problems(['--mesh', '--mesh-bind', bind]), bind).toEqual([]);
  });

  it('mesh keys are 32 random bytes; passphrases and known keys are refused', () => {
    const hex = randomBytes(32).toString('hex');
    expect(loadConfig(['--mesh', '--mesh-key', hex], {}).meshKey).toBe(hex);
    expect(loadConfig(['--mesh', '--mesh-key', KEY], {}).meshKey).toBe(KEY);
    expect(problems(['--mesh', '--mesh-key', 'test-cluster-key'])[0]).toMatch(/--mesh-key \(DROVER_MESH_KEY\) is not a 32-byte key in base64 or hex.*keygen/);
    expect(problems(['--mesh', '--mesh-key', randomBytes(16).toString('base64')])[0]).toMatch(/not a 32-byte key/);
    expect(problems(['--mesh', '--mesh-key', Buffer.alloc(32).toString('base64')])[0]).toMatch(/known example or default key/);
  });

  it('node identities: authority and credential together, certified, for this node (which takes its name from it)', () => {
    const authority = generateIdentityAuthority();
    const credential = issueIdentity(authority.privateKey, 'node-7');
    const base = ['--mesh', '--mesh-key', KEY, '--mesh-identity-authority', authority.publicKey];
    expect(loadConfig([...base, '--mesh-identity', credential], {}).nodeName).toBe('node-7');
    expect(problems([...base, '--mesh-identity', credential, '--node-name', 'node-8'])).toEqual(["--mesh-identity is issued for 'node-7', but --node-name is 'node-8'"]);
    expect(problems(base)[0]).toMatch(/--mesh-identity-authority and --mesh-identity together/);
    expect(problems([...base.slice(0, 3), '--mesh-identity-authority', generateIdentityAuthority().publicKey, '--mesh-identity', credential])[0]).toMatch(/not certified/);
    expect(problems(['--mesh', '--mesh-identity-authority', authority.publicKey, '--mesh-identity', credential])).toEqual(['--mesh-identity needs --mesh-key (identities sign; the cluster key still seals)']);
  });

  it('--mesh-key-accept installs more keys for rotation: each checked, and only next to a --mesh-key', () => {
    const next = randomBytes(32).toString('base64');
    expect(loadConfig(['--mesh', '--mesh-key', KEY, '--mesh-key-accept', next], {}).meshKeyAccept).toEqual([next]);
    expect(problems(['--mesh', '--mesh-key-accept', next])).toEqual(['--mesh-key-accept needs --mesh-key (the key this node sends with)']);
    expect(problems(['--mesh', '--mesh-key', KEY, '--mesh-key-accept', `${next},short`])[0]).toMatch(/--mesh-key-accept \(DROVER_MESH_KEY_ACCEPT\) item 2 is not a 32-byte key/);
  });
});

describe('gateway configuration from a file (--config)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-cfgfile-'));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  const YAML = `# a drover node
port: 9100
host: 0.0.0.0
workerUrls:
  - grpc://10.0.0.1:50051
  - grpc://10.0.0.2:50051
policy: round_robin
cacheThreshold: 0.25
maxQueuedRequests: 0
kvEvents: false
mesh: true
meshAdvertise: 10.0.0.9
meshSeeds: 10.0.0.7:7946,10.0.0.8:7946
`;

  it('applies every setting of a YAML file, typed', () => {
    const c = loadConfig(['--config', file('drover.yaml', YAML)], {});
    expect(c).toMatchObject({
      port: 9100,
      host: '0.0.0.0',
      workerUrls: ['grpc://10.0.0.1:50051', 'grpc://10.0.0.2:50051'],
      policy: 'round_robin',
      cacheThreshold: 0.25,
      maxQueuedRequests: 0,
      kvEvents: false,
      mesh: true,
      meshAdvertise: '10.0.0.9',
      meshSeeds: ['10.0.0.7:7946', '10.0.0.8:7946'],
    });
    // Settings the file leaves out keep their defaults.
    expect(c.maxRetries).toBe(loadConfig([], {}).maxRetries);
  });

  it('applies a JSON file the same way (.yml and --config=path too)', () => {
    const json = file('drover.json', JSON.stringify({ port: 9200, workerUrls: ['grpc://a:1'], rateLimitRpm: 60, removeFailedWorkers: true, logLevel: 'warn' }));
    expect(loadConfig(['--config', json], {})).toMatchObject({ port: 9200, workerUrls: ['grpc://a:1'], rateLimitRpm: 60, removeFailedWorkers: true, logLevel: 'warn' });
    expect(loadConfig([`--config=${file('drover.yml', 'port: 9300\n')}`], {}).port).toBe(9300);
  });

  it('the file can be named by DROVER_CONFIG', () => {
    expect(loadConfig([], { DROVER_CONFIG: file('env.yaml', 'port: 9400\n') }).port).toBe(9400);
  });

  it('precedence: defaults < file < environment < flags', () => {
    const path = file('layers.yaml', 'port: 9500\npolicy: random\nmaxRetries: 4\n');
    const c = loadConfig(['--config', path, '--port', '9502'], { DROVER_PORT: '9501', DROVER_POLICY: 'least_load' });
    expect([c.port, c.policy, c.maxRetries]).toEqual([9502, 'least_load', 4]);
    expect(loadConfig(['--config', path], { DROVER_PORT: '9501' }).port).toBe(9501);
    // A flag also overrides a bad value in the file: what is used is what is checked.
    expect(loadConfig(['--config', file('bad-port.yaml', 'port: nine\n'), '--port', '9600'], {}).port).toBe(9600);
  });

  it('lists every problem of the file at once: unknown keys (with a hint) and bad values, naming the file and key', () => {
    const path = file(
      'bad.yaml',
      `port: eighty
policy: fastest
worker-urls: grpc://a:1
prot: 1
cacheThreshold: 2
host:
  name: x
meshSeeds:
  - { host: a }
`,
    );
    const where = `config file ${path}`;
    expect(problems(['--config', path])).toEqual([
      `${where}: key 'host': expected a single string, got an object`,
      `${where}: key 'port': 'eighty' is not an integer`,
      `${where}: key 'policy': 'fastest' is not one of cache_aware, round_robin, random, power_of_two, least_load, consistent_hash, prefix_hash, manual`,
      `${where}: key 'cacheThreshold': 2 is above the maximum 1`,
      `${where}: key 'meshSeeds': every item must be a string`,
      `${where}: unknown key 'worker-urls' (did you mean 'workerUrls'?)`,
      `${where}: unknown key 'prot'`,
      '--mesh-seeds given without --mesh (DROVER_MESH): add --mesh to join a mesh, or drop the mesh settings',
    ]);
  });

  it('problems from the file, the environment and the flags are reported together', () => {
    const path = file('mixed.yaml', 'nope: 1\n');
    expect(problems(['--config', path, '--bogus'], { DROVER_MAX_RETRIES: 'many' })).toEqual([
      'unknown flag --bogus (see --help)',
      "--max-retries (DROVER_MAX_RETRIES): 'many' is not an integer",
      `config file ${path}: unknown key 'nope'`,
    ]);
  });

  it('a list where one value is expected, or a value of the wrong type, is refused', () => {
    const path = file('types.json', JSON.stringify({ port: [1, 2], mesh: 'maybe', workerUrls: 'grpc://a:1, grpc://b:2' }));
    expect(problems(['--config', path])).toEqual([
      `config file ${path}: key 'port': expected a single number, got a list`,
      `config file ${path}: key 'mesh': 'maybe' is not a boolean`,
    ]);
    // A comma-separated string is a fine list.
    expect(loadConfig(['--config', file('csv.json', JSON.stringify({ workerUrls: 'grpc://a:1, grpc://b:2' }))], {}).workerUrls).toEqual(['grpc://a:1', 'grpc://b:2']);
  });

  it('a missing, unparsable or non-object file is one clear problem', () => {
    const missing = join(dir, 'missing.yaml');
    const [m] = problems(['--config', missing]);
    expect(m).toMatch(new RegExp(`^config file ${missing}: ENOENT`));
    const [j] = problems(['--config', file('broken.json', '{"port": 1,')]);
    expect(j).toMatch(/^config file .*broken\.json: /);
    const [y] = problems(['--config', file('broken.yaml', 'port: [1,\n')]);
    expect(y).toMatch(/^config file .*broken\.yaml: /);
    expect(problems(['--config', file('list.yaml', '- port: 1\n')])).toEqual([`config file ${join(dir, 'list.yaml')}: must hold an object of settings`]);
    expect(problems(['--config', file('scalar.json', '42')])).toEqual([`config file ${join(dir, 'scalar.json')}: must hold an object of settings`]);
  });

  it('an empty or all-comments YAML file sets nothing', () => {
    expect(loadConfig(['--config', file('empty.yaml', '')], {}).port).toBe(8080);
    expect(loadConfig(['--config', file('comments.yaml', '# port: 1\n')], {}).port).toBe(8080);
  });
});

describe('security settings', () => {
  it('reads keys from flags and env, auth on unless --no-auth, and validates egress CIDRs up front', () => {
    const c = loadConfig(['--api-key', 'k1,k2'], { DROVER_ADMIN_KEY: 'adm' });
    expect(c).toMatchObject({ auth: true, apiKey: ['k1', 'k2'], adminKey: 'adm', metricsAuth: false, egressAllowWorkers: [], egressAllowImages: [] });
    expect(loadConfig(['--no-auth'], {}).auth).toBe(false);
    expect(loadConfig(['--egress-allow-workers', '10.0.0.0/8,::1'], {}).egressAllowWorkers).toEqual(['10.0.0.0/8', '::1']);
    expect(() => loadConfig(['--egress-allow-images', '10.0.0.0/40,example.com'], {})).toThrow(/--egress-allow-images: '10.0.0.0\/40': prefix must be 0..32[\s\S]*'example.com' is not an IP/);
  });
});
